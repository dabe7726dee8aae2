# The ssekit image for `bench --emit k8s` (and any container run): Node 20 on Debian slim.
#   docker build -t ssekit:0.1.0 .
#   docker run --rm ssekit:0.1.0 bench --help
# Two stages: the TypeScript build, then only what runs (production dependencies, dist, bin,
# scenarios, contracts), as the unprivileged `node` user.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npx tsc -p tsconfig.json

FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY scenarios ./scenarios
RUN ln -s /app/bin/ssekit.js /usr/local/bin/ssekit
USER node
ENTRYPOINT ["ssekit"]
CMD ["--help"]

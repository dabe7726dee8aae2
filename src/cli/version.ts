/** ssekit's version, as in package.json (reported by --version and in result files). */
export const VERSION = '0.1.0';

/** The Content-Type of a request body when none is given: JSON when it parses as JSON, else plain UTF-8 text. */
export function defaultContentTypeFor(body: string): string {
  try {
    JSON.parse(body);
    return 'application/json';
  } catch {
    return 'text/plain; charset=utf-8';
  }
}

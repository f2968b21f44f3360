/** Thrown by both drivers when a row would break a unique constraint (username, auth key hash, id). */
export class UniqueViolationError extends Error {
  constructor(readonly field: string) {
    super(`unique constraint violated: ${field}`);
    this.name = 'UniqueViolationError';
  }
}

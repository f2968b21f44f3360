import { ErrorCode, type RpcErrorPayload } from '@gg/contracts';

/** An error with a typed code; filters map it to HTTP (admin) or RPC (auth, key-pool) answers. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  toPayload(): RpcErrorPayload {
    return {
      code: this.code,
      message: this.message,
      ...(this.retryAfter !== undefined ? { retryAfter: this.retryAfter } : {}),
    };
  }

  static notFound(what = 'not found'): DomainError {
    return new DomainError(ErrorCode.NotFound, what);
  }
  static badRequest(message: string): DomainError {
    return new DomainError(ErrorCode.BadRequest, message);
  }
  static forbidden(message = 'forbidden'): DomainError {
    return new DomainError(ErrorCode.Forbidden, message);
  }
  static unauthorized(message = 'unauthorized'): DomainError {
    return new DomainError(ErrorCode.Unauthorized, message);
  }
  static conflict(message: string): DomainError {
    return new DomainError(ErrorCode.Conflict, message);
  }
}

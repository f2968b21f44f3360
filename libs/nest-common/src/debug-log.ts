import type { Logger } from 'pino';

/** The app's pino logger, set by createLogger: what every DebugLog built afterwards writes through. */
let appLogger: Logger | null = null;

export function setDebugLogger(logger: Logger | null): void {
  appLogger = logger;
}

/**
 * The debug lines of one component (`LOG_LEVEL=debug`): each an object with a stable `msg` ("pool choice",
 * "attempt classified", "affinity", "auth cache", …) and ids and figures only, never a key, a token or a body.
 * Whether debug is on is read once, when the component is built (after createLogger: Nest builds services after the
 * logger exists); callers test `on` before building a line, so at `info` a decision costs one boolean test and no
 * object. Without an app logger (unit tests) it is off.
 */
export class DebugLog {
  readonly on: boolean;
  private readonly logger: Logger | null;

  constructor(context: string, logger: Logger | null = appLogger) {
    this.logger = logger !== null && logger.isLevelEnabled('debug') ? logger.child({ context }) : null;
    this.on = this.logger !== null;
  }

  /** Write one line; call only when `on` (the caller built `fields` for it). */
  line(msg: string, fields: object): void {
    this.logger?.debug(fields, msg);
  }
}

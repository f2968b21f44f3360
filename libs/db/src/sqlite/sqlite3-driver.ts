import sqlite3 from 'sqlite3';

/**
 * The sqlite3 module as handed to TypeORM, whose driver calls `verbose()` on it. sqlite3's verbose mode wraps every
 * Database and Statement method for long stack traces: on every call, failing or not, it builds an Error and
 * `util.inspect`s each argument (the SQL and its parameters). Measured in auth applying the bench's usage at c=32,
 * that and its garbage came to about a tenth of auth's CPU. It also writes the parameters into a failed statement's
 * `err.stack`, which a log line may carry. Here `verbose()` answers the module unchanged; errors keep their message
 * and SQLite code and lose only the JavaScript call site appended to the stack.
 */
export const sqlite3Driver: typeof sqlite3 = Object.assign(Object.create(sqlite3) as typeof sqlite3, {
  verbose: () => sqlite3,
});

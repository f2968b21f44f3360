/** Bounds of user-key fields, shared by the admin's HTTP validation, auth's RPC validation and the SPA's forms. */
export const KEY_NAME_MAX = 100;
/** requests per minute a key may be limited to */
export const RATE_LIMIT_MAX = 1_000_000;
/** entries in a key's model allow-list */
export const ALLOWED_MODELS_MAX = 100;
/** the longest grace a rotation may keep the old secret valid: 30 days */
export const GRACE_SECONDS_MAX = 30 * 86400;

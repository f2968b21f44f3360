import { z } from 'zod';

/** Most keys accepted in one request (the JSON body limit is 1 MB). */
export const MAX_KEYS_PER_REQUEST = 10000;
export const MAX_POOL_KEY_LENGTH = 512;
export const KEYS_MESSAGE = `keys must be a non-empty string (keys separated by newlines or commas) or an array of 1-${MAX_KEYS_PER_REQUEST} non-empty strings`;

const oneKey = z
  .string({ error: KEYS_MESSAGE })
  .max(MAX_POOL_KEY_LENGTH, { error: KEYS_MESSAGE })
  .refine((k) => k.trim().length > 0, { error: KEYS_MESSAGE });

/** `POST /api/keys` (key-pool: `pool.keys.add`): `"k1\nk2,k3"` or `["k1", …]`. */
export const addPoolKeysSchema = z.strictObject({
  keys: z.union(
    [
      z
        .string({ error: KEYS_MESSAGE })
        .max(1_000_000, { error: KEYS_MESSAGE })
        .refine((s) => s.trim().length > 0, { error: KEYS_MESSAGE }),
      z
        .array(oneKey, { error: KEYS_MESSAGE })
        .min(1, { error: KEYS_MESSAGE })
        .max(MAX_KEYS_PER_REQUEST, { error: KEYS_MESSAGE }),
    ],
    { error: KEYS_MESSAGE },
  ),
});
export type AddPoolKeysInput = z.infer<typeof addPoolKeysSchema>;

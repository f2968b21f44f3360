import { ValidateBy, type ValidationOptions } from 'class-validator';
import type { AddPoolKeysRequest } from '@gg/contracts';

/** Most keys accepted in one request (the JSON body limit is 1 MB). */
export const MAX_KEYS_PER_REQUEST = 10000;
const MAX_KEY_LENGTH = 512;

/** `"k1\nk2,k3"` or `["k1", …]`: a non-empty string, or a non-empty array of non-empty strings. */
export function isKeyList(value: unknown): value is string | string[] {
  if (typeof value === 'string') return value.trim().length > 0;
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.length <= MAX_KEYS_PER_REQUEST &&
    value.every((k) => typeof k === 'string' && k.trim().length > 0 && k.length <= MAX_KEY_LENGTH)
  );
}

function IsKeyList(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isKeyList',
      validator: {
        validate: isKeyList,
        defaultMessage: () =>
          `keys must be a non-empty string (keys separated by newlines or commas) or an array of 1-${MAX_KEYS_PER_REQUEST} non-empty strings`,
      },
    },
    options,
  );
}

export class AddPoolKeysDto implements AddPoolKeysRequest {
  @IsKeyList()
  keys: string | string[];
}

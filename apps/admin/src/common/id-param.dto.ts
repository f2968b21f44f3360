import { Matches } from 'class-validator';

/** `:id` of a user, a user key or a pool key. */
export class IdParamDto {
  @Matches(/^[A-Za-z0-9_.:-]{1,64}$/, {
    message: 'id must be 1-64 characters of letters, digits, "_", ".", ":" or "-"',
  })
  id: string;
}

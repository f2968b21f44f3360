import { BadRequestException } from '@nestjs/common';
import { addPoolKeysSchema, logsQueryRequestSchema, logsQuerySchema } from '@gg/contracts';
import { ZodValidationPipe } from './zod-validation';

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BadRequestException);
    return ((e as BadRequestException).getResponse() as { message: string[] }).message.join('; ');
  }
  throw new Error('expected a 400');
}

describe('ZodValidationPipe', () => {
  it('returns the parsed value', () => {
    expect(new ZodValidationPipe(logsQuerySchema).transform({ limit: '10' })).toEqual({ limit: 10 });
  });

  it('names the field, nested fields with their path, and unknown fields as ValidationPipe did', () => {
    expect(messageOf(() => new ZodValidationPipe(logsQuerySchema).transform({ limit: '800' }))).toBe(
      'limit must be an integer from 1 to 500',
    );
    const proof = { proof: 'p', caller: { userId: 'u', role: 'user', tokenVersion: 0 } };
    expect(
      messageOf(() => new ZodValidationPipe(logsQueryRequestSchema).transform({ ...proof, query: { limit: 0 } })),
    ).toBe('query.limit must be an integer from 1 to 500');
    expect(messageOf(() => new ZodValidationPipe(addPoolKeysSchema).transform({ keys: ['ok'], extra: 1 }))).toBe(
      'property extra should not exist',
    );
  });
});

import { BadRequestException, Body, type PipeTransform, Query } from '@nestjs/common';
import { Payload as RpcPayload } from '@nestjs/microservices';
import type { z } from 'zod';

/** One line per problem, naming the field as class-validator did: `limit must be …`, `property extra should not exist`. */
export function zodIssueMessages(error: z.ZodError): string[] {
  const lines: string[] = [];
  for (const issue of error.issues) {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        lines.push(`property ${path.length ? `${path.join('.')}.` : ''}${key} should not exist`);
      continue;
    }
    // the nearest named field (`keys` of `keys.1`): a message that starts with it needs only the path before it
    const named = issue.path.findLastIndex((p) => typeof p === 'string');
    const field = named >= 0 ? path[named] : undefined;
    if (path.length === 0) lines.push(issue.message);
    else if (field !== undefined && issue.message.startsWith(`${field} `)) {
      const before = path.slice(0, named).join('.');
      lines.push(before ? `${before}.${issue.message}` : issue.message);
    } else lines.push(`${path.join('.')}: ${issue.message}`);
  }
  return [...new Set(lines)];
}

/**
 * Validates (and parses: defaults, query-string numbers) a payload with a zod schema from `@gg/contracts`. A bad one
 * is a BadRequestException in the shape Nest's ValidationPipe gives, so the admin answers 400 `{statusCode, message}`
 * and the RPC filter answers `{code: BAD_REQUEST, message}` as before.
 */
export class ZodValidationPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(readonly schema: S) {}

  transform(value: unknown): z.output<S> {
    const result = this.schema.safeParse(value ?? {});
    if (result.success) return result.data;
    throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: zodIssueMessages(result.error) });
  }
}

/** `@ZodBody(schema) body: z.output<typeof schema>`: the HTTP body, validated by the shared schema. */
export const ZodBody = (schema: z.ZodType): ParameterDecorator => Body(new ZodValidationPipe(schema));
/** `@ZodQuery(schema) query: …`: the HTTP query string, validated by the shared schema. */
export const ZodQuery = (schema: z.ZodType): ParameterDecorator => Query(new ZodValidationPipe(schema));
/** `@ZodPayload(schema) req: …`: an RPC message's payload, validated by the shared schema. */
export const ZodPayload = (schema: z.ZodType): ParameterDecorator => RpcPayload(new ZodValidationPipe(schema));

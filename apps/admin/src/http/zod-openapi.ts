import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiQuery } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { z } from 'zod';

/** The OpenAPI (3.0) form of a shared request schema from `@gg/contracts`. */
function openApiSchema(schema: z.ZodType): SchemaObject {
  const json = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  delete json['$schema'];
  return json as SchemaObject;
}

/** Documents a JSON body validated by `@ZodBody(schema)`. */
export function ApiZodBody(schema: z.ZodType): MethodDecorator {
  return applyDecorators(ApiBody({ schema: openApiSchema(schema) }));
}

/** Documents the query parameters validated by `@ZodQuery(schema)`, one per field of the (object) schema. */
export function ApiZodQuery(schema: z.ZodType): MethodDecorator {
  const json = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'output', unrepresentable: 'any' }) as {
    properties?: Record<string, SchemaObject>;
    required?: string[];
  };
  const params = Object.entries(json.properties ?? {}).map(([name, property]) =>
    ApiQuery({ name, required: json.required?.includes(name) ?? false, schema: property }),
  );
  return applyDecorators(...params);
}

import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';

/** Swagger UI loads its own script and style files; the API's `default-src 'none'` would block them. */
const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function docsCsp(req: Request, res: Response, next: NextFunction): void {
  if (/^\/api\/docs(-json|-yaml)?(\/|$)/i.test(req.path)) res.setHeader('Content-Security-Policy', DOCS_CSP);
  next();
}

/** The OpenAPI document of the admin API: UI at `/api/docs`, JSON at `/api/docs-json`. */
export function mountApiDocs(app: NestExpressApplication): void {
  const config = new DocumentBuilder()
    .setTitle('gemini-gateway admin API')
    .setDescription('Users, user API keys, the pool of Gemini keys, request and service logs. Bearer: the access token of POST /api/auth/login.')
    .setVersion('0.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .addSecurityRequirements('bearer')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json', yamlDocumentUrl: 'api/docs-yaml' });
}

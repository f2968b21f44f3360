import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import { AccessTokens } from '../security/access-token';
import type { SessionLiveness } from '../security/session-liveness.service';

/** Swagger UI loads its own script and style files; the API's `default-src 'none'` would block them. */
const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
].join('; ');

const DOCS_PATH = /^\/api\/docs(-json|-yaml)?(\/|$)/i;

export function docsCsp(req: Request, res: Response, next: NextFunction): void {
  if (DOCS_PATH.test(req.path)) res.setHeader('Content-Security-Policy', DOCS_CSP);
  next();
}

/**
 * The API documentation (`/api/docs`, `/api/docs-json`, `/api/docs-yaml`) is for logged-in admins only:
 * `Authorization: Bearer` with a live admin session (401 without, 403 for another role).
 */
export function docsForAdmins(tokens: AccessTokens, sessions: SessionLiveness) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!DOCS_PATH.test(req.path)) return next();
    const user = tokens.verify(AccessTokens.bearer(req.headers.authorization));
    if (!user) {
      res.status(401).json({ statusCode: 401, message: 'the API documentation needs an admin access token' });
      return;
    }
    if (user.role !== 'admin') {
      res.status(403).json({ statusCode: 403, message: 'this needs the admin role' });
      return;
    }
    sessions.assertLive(user).then(
      () => next(),
      () => res.status(401).json({ statusCode: 401, message: 'session is no longer valid; please log in again' }),
    );
  };
}

/** The OpenAPI document of the admin API: UI at `/api/docs`, JSON at `/api/docs-json`. */
export function mountApiDocs(app: NestExpressApplication): void {
  const config = new DocumentBuilder()
    .setTitle('gemini-gateway admin API')
    .setDescription(
      'Users, user API keys, the pool of Gemini keys, request and service logs. Bearer: the access token of POST /api/auth/login.',
    )
    .setVersion('0.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .addSecurityRequirements('bearer')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('api/docs', app, document, {
    jsonDocumentUrl: 'api/docs-json',
    yamlDocumentUrl: 'api/docs-yaml',
  });
}

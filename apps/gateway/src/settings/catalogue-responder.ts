import type { Dispatcher } from 'undici';
import type { Exchange, Responder, UpstreamFailure } from '../forward/exchange';
import type { ModelCatalogue } from './model-catalogue';

/**
 * A native `models.list` answer while the catalogue has something to say (hidden models, aliases): read whole (a
 * page of models is a few tens of KB, `maxBytes` at most), shown through the catalogue, sent as JSON. Errors, the
 * gateway's and the upstream's, are the native route's own. An answer that is not the JSON expected goes on as it came.
 */
export class CatalogueListResponder implements Responder {
  readonly errors: Responder['errors'];

  constructor(
    private readonly native: Responder,
    private readonly catalogue: ModelCatalogue,
    private readonly maxBytes: number,
  ) {
    this.errors = native.errors;
  }

  upstreamError(ex: Exchange, f: UpstreamFailure): void {
    this.native.upstreamError(ex, f);
  }

  success(
    ex: Exchange,
    up: Dispatcher.ResponseData,
    _keyId: string,
    release: () => void,
    broken: (reason: string) => void,
  ): void {
    let released = false;
    const finish = (): void => {
      if (released) return;
      released = true;
      release();
    };
    const chunks: Buffer[] = [];
    let bytes = 0;
    ex.res.once('close', () => {
      if (!up.body.destroyed) up.body.destroy();
      finish();
    });
    const fail = (status: number, reason: string, message: string): void => {
      ex.status = status;
      ex.error = reason;
      broken(reason);
      finish();
      this.errors(ex.res, status, status === 504 ? 'DEADLINE_EXCEEDED' : 'UNAVAILABLE', message);
    };
    up.body.on('data', (c: Buffer) => {
      if (ex.ttfbMs === null) ex.ttfbMs = Date.now() - ex.startedAt;
      bytes += c.length;
      if (bytes > this.maxBytes) {
        up.body.destroy();
        chunks.length = 0;
        return fail(502, 'the upstream answer is larger than MAX_ANSWER_BODY_MB', 'The model list is too large.');
      }
      chunks.push(c);
    });
    up.body.once('end', () => {
      if (bytes > this.maxBytes) return;
      finish();
      const raw = Buffer.concat(chunks);
      let out: Buffer = raw;
      try {
        const page = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
        if (page && typeof page === 'object' && !Array.isArray(page)) {
          out = Buffer.from(JSON.stringify(this.catalogue.listPage(page)));
        }
      } catch {
        // not the JSON expected: passed on as it came
      }
      ex.status = up.statusCode;
      const ct = up.headers['content-type'];
      ex.res.writeHead(up.statusCode, {
        'content-type': (Array.isArray(ct) ? ct[0] : ct) ?? 'application/json; charset=UTF-8',
        'content-length': out.length,
      });
      ex.res.end(out);
    });
    up.body.once('error', () => {
      if (bytes > this.maxBytes || ex.abort.signal.aborted) return finish();
      if (ex.deadlineHit) {
        return fail(
          504,
          'deadline exceeded after the headers: the answer was cut',
          'The upstream did not answer in time.',
        );
      }
      fail(502, 'upstream stream broke', 'The upstream answer broke off.');
    });
  }
}

import type { Dispatcher } from 'undici';
import { readAnswerWhole } from '../forward/answer-whole';
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
    const fail = (finish: () => void, status: number, reason: string, message: string): void => {
      ex.status = status;
      ex.error = reason;
      broken(reason);
      finish();
      this.errors(ex.res, status, status === 504 ? 'DEADLINE_EXCEEDED' : 'UNAVAILABLE', message);
    };
    readAnswerWhole(ex, up, this.maxBytes, release, {
      tooLarge: (finish) =>
        fail(finish, 502, 'the upstream answer is larger than MAX_ANSWER_BODY_MB', 'The model list is too large.'),
      end: (raw, finish) => {
        finish();
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
      },
      error: (_e, finish) => {
        // the deadline sweep marks the hit and aborts in one step: it is asked first, or a cut list would get no answer
        if (ex.deadlineHit) {
          return fail(
            finish,
            504,
            'deadline exceeded after the headers: the answer was cut',
            'The upstream did not answer in time.',
          );
        }
        if (ex.abort.signal.aborted) return finish();
        fail(finish, 502, 'upstream stream broke', 'The upstream answer broke off.');
      },
    });
  }
}

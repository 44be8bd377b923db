/**
 * Every failure the SDK reports is an {@link EvalGuardError}. An answer other
 * than 2xx becomes the subclass of its status, carrying the API's error object
 * (`code`, `message`, `param`); failures without an answer (connection refused,
 * timeout) have no status. No error ever carries the API key or request headers.
 * (A call aborted through the caller's own `signal` rejects with that signal's
 * reason, as `fetch` does.)
 */

/** The `error` object of an API error answer. */
export interface ApiErrorBody {
  code?: string;
  message?: string;
  param?: string;
  [extra: string]: unknown;
}

export interface EvalGuardErrorInit {
  status?: number | undefined;
  code?: string | undefined;
  param?: string | undefined;
  requestId?: string | undefined;
  body?: unknown;
  cause?: unknown;
}

export class EvalGuardError extends Error {
  /** The HTTP status, or `undefined` when no answer was received. */
  readonly status: number | undefined;
  /** The API's snake_case error code, e.g. `invalid_request`. */
  readonly code: string | undefined;
  /** The request field the error is about, e.g. `target.model`. */
  readonly param: string | undefined;
  /** The server's `x-request-id`, to quote when asking for help. */
  readonly requestId: string | undefined;
  /** The decoded error answer, when there was one. */
  readonly body: unknown;

  constructor(message: string, init: EvalGuardErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.status = init.status;
    this.code = init.code;
    this.param = init.param;
    this.requestId = init.requestId;
    this.body = init.body;
  }
}

/** 400: malformed JSON, a wrong type, a missing field or a value out of range. */
export class BadRequestError extends EvalGuardError {}
/** 401: no key, a malformed, unknown or revoked key. */
export class AuthenticationError extends EvalGuardError {}
/** 403: the key's role is too low, or the resource is outside its project. */
export class PermissionDeniedError extends EvalGuardError {}
/** 404: no such id in the key's organization, or no such route. */
export class NotFoundError extends EvalGuardError {}
/** 409: the resource exists already (e.g. a project id). */
export class ConflictError extends EvalGuardError {}
/** 413: the body is larger than the server's limit. */
export class PayloadTooLargeError extends EvalGuardError {}
/** 422: e.g. an Idempotency-Key reused with a different body. */
export class UnprocessableEntityError extends EvalGuardError {}

/** 429: the key's rate limit is used up. */
export class RateLimitError extends EvalGuardError {
  /** Seconds the server asked to wait (`Retry-After`), when it said. */
  readonly retryAfter: number | undefined;

  constructor(message: string, init: EvalGuardErrorInit & { retryAfter?: number | undefined }) {
    super(message, init);
    this.retryAfter = init.retryAfter;
  }
}

/** 5xx: the server failed. */
export class InternalServerError extends EvalGuardError {}

/** No answer: the connection failed or was reset. */
export class APIConnectionError extends EvalGuardError {}

/** No answer within the request's timeout. */
export class APIConnectionTimeoutError extends APIConnectionError {}

/** `autoEval.wait` gave up before the job finished; `job` is the last state seen. */
export class WaitTimeoutError extends EvalGuardError {
  readonly job: unknown;

  constructor(message: string, job: unknown) {
    super(message, { code: "wait_timeout" });
    this.job = job;
  }
}

const BY_STATUS: Readonly<Record<number, typeof EvalGuardError>> = {
  400: BadRequestError,
  401: AuthenticationError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  413: PayloadTooLargeError,
  422: UnprocessableEntityError,
  429: RateLimitError,
};

/** The subclass for an HTTP status. */
export function errorForStatus(
  status: number,
  message: string,
  init: EvalGuardErrorInit & { retryAfter?: number | undefined },
): EvalGuardError {
  const type = BY_STATUS[status] ?? (status >= 500 ? InternalServerError : EvalGuardError);
  return new type(message, { ...init, status });
}

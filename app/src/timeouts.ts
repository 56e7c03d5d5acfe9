// Every time bound the app keeps, in one place, and why each has the value it has.
//
// The token step has to agree with what @azure/identity itself does when the token endpoint fails (read from the
// installed packages, @azure/identity 4.14.1 → @azure/core-rest-pipeline 1.24.0 → @typespec/ts-http-runtime
// 0.3.6, and @azure/msal-node 7.2.1):
// - IdentityClient (identity dist/commonjs/client/identityClient.js) builds its pipeline with
//   `retryOptions: { maxRetries: 3 }`: one getToken() is up to 4 HTTP attempts.
// - The default retry policy (ts-http-runtime policies/defaultRetryPolicy.js) retries 5xx except 501/505, 408,
//   and the errors ETIMEDOUT, ESOCKETTIMEDOUT, ECONNREFUSED, ECONNRESET, ENOENT, ENOTFOUND
//   (retryStrategies/exponentialRetryStrategy.js). Before retry n (0-based) it waits a random time in
//   [½, 1] × 1000 ms × 2ⁿ, capped at 64 s (util/delay.js, DEFAULT_CLIENT_RETRY_INTERVAL = 1000): at most
//   1 + 2 + 4 = 7 s of waiting. A 429 or 503 with Retry-After waits that long instead
//   (throttlingRetryStrategy.js).
// - There is no per-attempt timeout: an endpoint that hangs hangs getToken() with it.
// - After the last attempt fails with 429 or 5xx, MSAL remembers it (msal-node ThrottlingUtils) and fails the
//   same token request at once, without a network call, for Retry-After seconds — 60 s when the response had
//   none (DEFAULT_THROTTLE_TIME_SECONDS), at most 3600 s.
// So a failing endpoint costs one getToken() up to ~7 s plus four round trips, and after that every caller gets
// the cached failure for a minute. The app therefore (a) waits for a token at most TOKEN_TIMEOUT_MS, longer than
// one full SDK retry cycle, (b) never makes a request wait for a refresh while a valid token is cached, and
// (c) refreshes in the background well before expiry, with its own backoff, so a minute of throttling is
// harmless.

/** Longest time the SDK spends retrying one failed token request: 1 s + 2 s + 4 s of backoff (see above). */
export const IDENTITY_RETRY_BACKOFF_MAX_MS = 7_000;

/** How long a caller waits for a token when none is cached: one SDK retry cycle plus four round trips. */
export const TOKEN_TIMEOUT_MS = 10_000;
/** TCP connect to the server. */
export const TCP_TIMEOUT_MS = 5_000;
/** TLS handshake (the SSLRequest and the handshake after it). */
export const TLS_TIMEOUT_MS = 5_000;
/** From the startup message to ReadyForQuery: the server checks the token here. */
export const AUTH_TIMEOUT_MS = 5_000;
/** One statement: the server cancels it (statement_timeout); the client gives up a second later. */
export const QUERY_TIMEOUT_MS = 5_000;

/** The readiness endpoint's own budget; the readiness probe's timeoutSeconds must be longer. */
export const READY_TIMEOUT_MS = 2_000;

/** After SIGTERM: longest wait for in-flight requests before remaining connections are cut. */
export const DRAIN_TIMEOUT_MS = 10_000;
/** After draining: longest wait for the pool to close its connections. */
export const POOL_CLOSE_TIMEOUT_MS = 2_000;
/** SIGTERM to exit, at most. The pod's preStop delay plus this must fit in terminationGracePeriodSeconds. */
export const SHUTDOWN_BOUND_MS = DRAIN_TIMEOUT_MS + POOL_CLOSE_TIMEOUT_MS;

/** First background retry of a failed token refresh; doubles (with jitter) up to the maximum. */
export const TOKEN_RETRY_INITIAL_MS = 1_000;
export const TOKEN_RETRY_MAX_MS = 30_000;

/** Authenticator: request headers → principal. */
export const AUTHENTICATOR = Symbol('AUTHENTICATOR');

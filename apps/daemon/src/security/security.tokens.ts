/** SecretRegistry: the daemon-wide list of secret values (redaction of logs and node data). */
export const SECRET_REGISTRY = Symbol('SECRET_REGISTRY');
/** KeyMaterial: the JWT secret and the master key, loaded at start-up. */
export const KEY_MATERIAL = Symbol('KEY_MATERIAL');
/** ApiKeyStore (PostgreSQL, or memory without a database). */
export const API_KEY_STORE = Symbol('API_KEY_STORE');
/** CredentialStore (PostgreSQL, or memory without a database). */
export const CREDENTIAL_STORE = Symbol('CREDENTIAL_STORE');
/** the authenticator is the auth feature's; re-exported for the security module */
export { AUTHENTICATOR } from '../auth/auth.tokens.js';
/** SecurityOptions given to AppModule.forRoot (env with the secrets, the shared SecretRegistry). */
export const SECURITY_OPTIONS = Symbol('SECURITY_OPTIONS');
/**
 * EngineSecurity: what the engine needs from this module: the credentials accessor (EngineDeps.credentials)
 * and the redaction of node outputs and errors. Injected optionally by EngineModule.
 */
export const ENGINE_SECURITY = Symbol('ENGINE_SECURITY');

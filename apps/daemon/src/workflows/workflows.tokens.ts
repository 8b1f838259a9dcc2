/** DI token of the save-time credential reference check (CredentialRefsCheck), absent without the vault. */
export const CREDENTIAL_REFS_CHECK = Symbol('CREDENTIAL_REFS_CHECK');

import { blake2b } from '@noble/hashes/blake2b';

/**
 * What params and triggers need of Casper without loading casper-js-sdk (~300 ms and ~39 MiB at start-up,
 * for a daemon that may never watch a Casper network): the CSPR unit and the normal form of a watched
 * account or purse. The follower (casper.ts, which uses the SDK) is loaded when a Casper observer starts.
 */

/** motes per CSPR */
export const CSPR_DECIMALS = 9;

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/**
 * casper-types' `AccountHash::from_public_key`: BLAKE2b-256 of the algorithm's name (`ed25519`,
 * `secp256k1`), a zero byte and the raw key (the public key's hex without its algorithm tag 01/02).
 */
function accountHashOf(publicKeyHex: string): string {
  const algorithm = publicKeyHex.startsWith('01') ? 'ed25519' : 'secp256k1';
  const preimage = Buffer.concat([Buffer.from(algorithm, 'utf8'), Buffer.from([0]), Buffer.from(publicKeyHex.slice(2), 'hex')]);
  return `account-hash-${hex(blake2b(preimage, { dkLen: 32 }))}`;
}

/**
 * `account-hash-<hex>` for an account hash or a public key (hex), `uref-<hex>` (access rights dropped)
 * for a purse; throws with what is accepted otherwise.
 */
export function normaliseCasperTarget(value: string): string {
  const v = value.trim().toLowerCase();
  if (/^account-hash-[0-9a-f]{64}$/.test(v)) return v;
  const uref = /^uref-([0-9a-f]{64})(-[0-7]{3})?$/.exec(v);
  if (uref) return `uref-${uref[1]}`;
  if (/^(01[0-9a-f]{64}|02[0-9a-f]{66})$/.test(v)) {
    // a secp256k1 key is 02 + its 33-byte compressed point, whose own first byte is 02 or 03
    if (v.startsWith('02') && !/^02(02|03)/.test(v)) throw new Error('is not a valid public key: a secp256k1 key (02…) holds a compressed point (02… or 03… after the tag)');
    return accountHashOf(v);
  }
  throw new Error('must be an account hash ("account-hash-<64 hex>"), a public key (hex, 01… or 02…) or a purse URef ("uref-<64 hex>-<rights>")');
}

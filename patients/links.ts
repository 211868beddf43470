/**
 * The patient's single-use link: 144 random bits and a signature (HMAC with a secret derived from
 * the payload key), carrying nothing about the patient. Only the SHA-256 of the random part is
 * kept; a forged or mistyped token fails its signature before anything is looked up.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const RANDOM_BYTES = 18;
const SIGNATURE_BYTES = 12;
const TOKEN = /^([A-Za-z0-9_-]{24})\.([A-Za-z0-9_-]{16})$/;

export class LinkSigner {
  /** The current secret signs; earlier ones (from previous payload keys) still verify. */
  constructor(private readonly secrets: readonly string[]) {
    if (secrets.length === 0) throw new Error('no secret to sign patient links with');
  }

  private sign(random: string, secret: string): Buffer {
    return createHmac('sha256', secret).update(`patient-link\u0000${random}`).digest().subarray(0, SIGNATURE_BYTES);
  }

  /** A new token and the hash to keep. */
  issue(): { token: string; hash: string } {
    const random = randomBytes(RANDOM_BYTES).toString('base64url');
    return { token: `${random}.${this.sign(random, this.secrets[0]!).toString('base64url')}`, hash: hashOf(random) };
  }

  /** The hash to look the token up by, or null for a forged or malformed token. */
  verify(token: string): string | null {
    const m = TOKEN.exec(token);
    if (!m) return null;
    const given = Buffer.from(m[2]!, 'base64url');
    const signed = this.secrets.some((s) => {
      const expected = this.sign(m[1]!, s);
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
    return signed ? hashOf(m[1]!) : null;
  }
}

const hashOf = (random: string) => createHash('sha256').update(random).digest('hex');

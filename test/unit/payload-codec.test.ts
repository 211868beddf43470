/**
 * Payload encryption: what Temporal stores is unreadable without the key, tamper-evident, and
 * still readable after a key rotation.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { EncryptionCodec, parsePayloadKey, payloadCodecFor } from '../../temporal/payload-codec';

const payload = () => defaultPayloadConverter.toPayload({ painNrs: 7, note: 'lives with Ms Example' })!;

describe('EncryptionCodec', () => {
  it('round-trips a payload and hides its content', async () => {
    const codec = new EncryptionCodec(randomBytes(32));
    const [encoded] = await codec.encode([payload()]);
    expect(Buffer.from(encoded!.metadata!.encoding!).toString()).toBe('binary/encrypted');
    expect(Buffer.from(encoded!.data!).toString('latin1')).not.toMatch(/painNrs|Example/);
    const [decoded] = await codec.decode([encoded!]);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual({ painNrs: 7, note: 'lives with Ms Example' });
  });

  it('uses a fresh nonce each time, so equal payloads do not look equal', async () => {
    const codec = new EncryptionCodec(randomBytes(32));
    const [a, b] = await codec.encode([payload(), payload()]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  it('refuses a tampered payload', async () => {
    const codec = new EncryptionCodec(randomBytes(32));
    const [encoded] = await codec.encode([payload()]);
    const data = Buffer.from(encoded!.data!);
    data[20] = data[20]! ^ 1;
    await expect(codec.decode([{ ...encoded!, data }])).rejects.toThrow();
  });

  it('decrypts with a previous key after a rotation, and names a missing key', async () => {
    const oldKey = randomBytes(32);
    const [old] = await new EncryptionCodec(oldKey).encode([payload()]);
    const rotated = new EncryptionCodec(randomBytes(32), [oldKey]);
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([old!]))[0]!)).toMatchObject({ painNrs: 7 });
    await expect(new EncryptionCodec(randomBytes(32)).decode([old!])).rejects.toThrow(/PATHWAY_PAYLOAD_PREVIOUS_KEYS/);
  });

  it('passes through payloads it did not encrypt (histories from before encryption)', async () => {
    const plain = payload();
    expect(await new EncryptionCodec(randomBytes(32)).decode([plain])).toEqual([plain]);
  });
});

describe('payload keys', () => {
  it('accepts 32 bytes in hex or base64 only', () => {
    expect(parsePayloadKey('ab'.repeat(32))).toHaveLength(32);
    expect(parsePayloadKey(randomBytes(32).toString('base64'))).toHaveLength(32);
    expect(() => parsePayloadKey('ab'.repeat(16))).toThrow(/32 bytes/);
  });

  it('generates one key in the data folder outside production, and demands one in production', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pathway-key-'));
    try {
      const first = payloadCodecFor({ production: false, dataDir: dir });
      expect(first.generated).toBe(path.join(dir, 'payload-key'));
      const again = payloadCodecFor({ production: false, dataDir: dir });
      expect(again.generated).toBeUndefined();
      expect(EncryptionCodec.idOf(parsePayloadKey(readFileSync(path.join(dir, 'payload-key'), 'utf8')))).toHaveLength(16);
      expect(() => payloadCodecFor({ production: true, dataDir: dir })).toThrow(/PATHWAY_PAYLOAD_KEY/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ecdsaVerifierKey, ed25519VerifierKey } from '../../../lib/ledger/signed-note';
import { witnessFlag } from '../../../runtime/start-command';

describe('bcs start --witness URL=VKEY', () => {
  const ed = ed25519VerifierKey('witness.example', generateKeyPairSync('ed25519').publicKey);
  const ecdsa = ecdsaVerifierKey('log.example', generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);

  it('splits where a well-formed vkey follows, so that the URL may hold "=" and the key padding', () => {
    expect(ecdsa).toMatch(/=$/); // base64 padding of the 92-byte key
    for (const key of [ed, ecdsa]) {
      expect(witnessFlag(`http://127.0.0.1:7380/?a=b&c=d=${key}`)).toEqual({
        url: 'http://127.0.0.1:7380/?a=b&c=d',
        key,
      });
      expect(witnessFlag(`http://127.0.0.1:7380/=${key}`)).toEqual({ url: 'http://127.0.0.1:7380/', key });
    }
  });

  it('without a well-formed vkey, splits at the first "=" so that the key error names it', () => {
    expect(witnessFlag('http://w/?a=not-a-key')).toEqual({ url: 'http://w/?a', key: 'not-a-key' });
    expect(witnessFlag('http://w/')).toEqual({ url: 'http://w/', key: '' });
  });
});

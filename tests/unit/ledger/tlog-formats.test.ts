import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { tilesForSize } from '../../../lib/engine/tlog-tiles';
import { ValidationError } from '../../../lib/errors';
import {
  checkOrigin,
  checkpointOf,
  checkpointText,
  defaultOrigin,
  digestOfCheckpoint,
  openCheckpoint,
  parseCheckpoint,
} from '../../../lib/ledger/checkpoint';
import {
  ecdsaKeyHash,
  ecdsaVerifierKey,
  NoteError,
  type NoteSigner,
  openNote,
  parseNote,
  parseVerifierKey,
  signNote,
} from '../../../lib/ledger/signed-note';
import { parseTileSegments, tilePath } from '../../../lib/ledger/tile-paths';

const digest = {
  height: 2,
  head_hash: '32ebc8669bb195f79a469641ac6bcfe248aac650a0b2adfbb5edcdab15060041',
  tree_size: 3,
  blocks_root: 'd9e51fa6f481f1b42469e5fc148a2587e3ae8b2864efb278388dd1cd2bb0e910',
  transaction_count: 3,
  timestamp: '2026-11-21T06:05:00.010Z',
};

function p256Signer(name: string) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const signer: NoteSigner = {
    name,
    keyHash: ecdsaKeyHash(publicKey.export({ type: 'spki', format: 'der' })),
    sign: async (text) => sign('sha256', text, { key: privateKey, dsaEncoding: 'der' }),
  };
  return { signer, vkey: ecdsaVerifierKey(name, publicKey) };
}

describe('C2SP signed notes', () => {
  it('verifies the Ed25519 example of the signed-note specification', () => {
    const verifier = parseVerifierKey(
      'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k',
    );
    const note =
      'This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';
    expect(openNote(note, [verifier]).verified).toHaveLength(1);
    expect(() => openNote(note.replace('example', 'exemple'), [verifier])).toThrow(NoteError);
  });

  it('signs with ECDSA P-256 (type 0x02): verifies, ignores unknown keys, rejects a bad signature by a known key', async () => {
    const log = p256Signer('example.com/log');
    const other = p256Signer('example.com/other');
    const note = await signNote('example.com/log\n1\nAAAA\n', [log.signer, other.signer]);
    const opened = openNote(note, [parseVerifierKey(log.vkey)]);
    expect(opened.verified.map((v) => v.verifier.name)).toEqual(['example.com/log']);
    expect(opened.unknown).toHaveLength(1);
    // Same name and key id, another key's signature: the whole note is refused.
    const swapped = note.split('\n');
    const sigOf = (line: string) => line.split(' ').pop()!;
    const otherSig = Buffer.from(sigOf(swapped.at(-2)!), 'base64');
    otherSig.writeUInt32BE(log.signer.keyHash, 0);
    swapped[swapped.length - 3] = `— example.com/log ${otherSig.toString('base64')}`;
    expect(() => openNote(swapped.join('\n'), [parseVerifierKey(log.vkey)])).toThrow(/does not verify/);
  });

  it('refuses what is not a signed note or a verifier key, naming the problem', () => {
    expect(() => parseNote('text\n')).toThrow(/blank line/);
    expect(() => parseNote('text\n\nnot a signature\n')).toThrow(/malformed signature line/);
    expect(() => parseNote('te\u0007xt\n\n— a AAAAAAAA\n')).toThrow(/control character/);
    expect(() => parseVerifierKey('a+b')).toThrow(/name\+id\+key/);
    expect(() =>
      parseVerifierKey('example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k'),
    ).toThrow(/not the id of its key/);
  });
});

describe('checkpoints', () => {
  it('writes a digest as origin, size, base64 root and extension lines, and reads it back', () => {
    const text = checkpointText(checkpointOf('example.com/ledger', digest));
    expect(text).toBe(
      'example.com/ledger\n3\n2eUfpvSB8bQkaeX8FIolh+Ouiyhk77J4OI3RzSuw6RA=\n' +
        `bcs-head ${digest.head_hash}\nbcs-transactions 3\nbcs-time 2026-11-21T06:05:00.010Z\n`,
    );
    expect(digestOfCheckpoint(parseCheckpoint(text))).toEqual(digest);
    expect(() => parseCheckpoint('o\n03\n2eUfpvSB8bQkaeX8FIolh+Ouiyhk77J4OI3RzSuw6RA=\n')).toThrow(
      /leading zeros/,
    );
    expect(() => parseCheckpoint('o\n3\nAAAA\n')).toThrow(/32 bytes/);
    expect(() => parseCheckpoint('o\n3\n2eUfpvSB8bQkaeX8FIolh+Ouiyhk77J4OI3RzSuw6RA=\n\n')).toThrow(
      /empty extension/,
    );
  });

  it('needs the log signature, the origin as key name, and a quorum of cosignatures', async () => {
    const log = p256Signer('example.com/ledger');
    const note = await signNote(checkpointText(checkpointOf('example.com/ledger', digest)), [log.signer]);
    const key = parseVerifierKey(log.vkey);
    expect(openCheckpoint(note, key).checkpoint.tree_size).toBe(3);
    expect(() => openCheckpoint(note, key, [], 1)).toThrow(/0 valid witness cosignatures, the quorum is 1/);
    const stranger = p256Signer('example.com/ledger');
    expect(() => openCheckpoint(note, parseVerifierKey(stranger.vkey))).toThrow(
      /no signature by the log key/,
    );
  });

  it('takes a default origin from the key fingerprint and refuses origins with spaces or "+"', () => {
    expect(defaultOrigin(`sha256:${'0123456789abcdef'.repeat(4)}`)).toBe('bcs-ledger/0123456789abcdef');
    expect(() => checkOrigin('a b')).toThrow(ValidationError);
    expect(() => checkOrigin('a+b')).toThrow(ValidationError);
  });
});

describe('tlog-tiles paths', () => {
  it('writes and parses the index in x-prefixed 3-digit groups, with .p/<W> for partial tiles', () => {
    expect(tilePath({ level: 0, index: 1234067, width: 256 })).toBe('tile/0/x001/x234/067');
    expect(tilePath({ level: 'entries', index: 5, width: 17 })).toBe('tile/entries/005.p/17');
    expect(parseTileSegments(['0', 'x001', 'x234', '067'])).toEqual({ level: 0, index: 1234067, width: 256 });
    expect(parseTileSegments(['entries', '005.p', '17'])).toEqual({ level: 'entries', index: 5, width: 17 });
  });

  it('names the path segment that is wrong', () => {
    const field = (segments: string[]) => {
      try {
        parseTileSegments(segments);
      } catch (error) {
        return (error as ValidationError).issues[0]!.field;
      }
      return null;
    };
    expect(field(['00', '000'])).toBe('path segment "00"');
    expect(field(['0', '001', '000'])).toBe('path segment "001"');
    expect(field(['0', '1'])).toBe('path segment "1"');
    expect(field(['0', '000.p', '0'])).toBe('path segment "0"');
    expect(field(['0', '000.p', '256'])).toBe('path segment "256"');
    expect(field(['0', 'x000', '001'])).toBe('path segment "x000"');
    expect(field(['0'])).toBe('path segment "0"');
  });

  it('lists the tiles of a tree size as the specification counts them (70,000 leaves)', () => {
    const tiles = tilesForSize(70_000).filter((t) => t.level !== 'entries');
    const at = (level: number) => tiles.filter((t) => t.level === level);
    expect(at(0).filter((t) => t.width === 256)).toHaveLength(273);
    expect(
      at(0)
        .filter((t) => t.width < 256)
        .map((t) => t.width),
    ).toEqual([112]);
    expect(at(1).map((t) => t.width)).toEqual([256, 17]);
    expect(at(2).map((t) => t.width)).toEqual([1]);
    expect(tilesForSize(70_000, 65_536).filter((t) => t.level === 0 && t.width === 256)).toHaveLength(17);
  });
});

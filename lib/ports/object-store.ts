/**
 * Where the transparency log is published as static files (tlog-tiles: `checkpoint`, `tile/...`):
 * an S3 bucket on AWS (lib/adapters/s3). Keys are the tlog-tiles paths relative to the log's prefix.
 */
export interface ObjectStore {
  put(
    key: string,
    body: Uint8Array | string,
    options: { contentType: string; cacheControl: string },
  ): Promise<void>;
  /** The object's bytes, or null when there is none. */
  get(key: string): Promise<Uint8Array | null>;
}

export { S3ObjectStore } from './s3-object-store';

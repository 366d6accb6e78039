// What a job generator's tests need to run its specs the way an executor does: the volume download
// and output upload stages (through the executor's public face, never its internals), and the S3
// object store a generator's volumes and uploads may live in.
export { downloadVolume, uploadOutputs, type DownloadVolumeOptions, type UploadOutputsOptions } from '../executor/index.js';
export { S3ObjectStore, type S3ObjectStoreOptions } from '../objectstore/s3.js';

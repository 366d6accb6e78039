export {
  certificateFingerprint,
  generateCertificate,
  InvalidCertificateError,
  parseCertificate,
  type CertificateAndKey,
} from './certificates.js';

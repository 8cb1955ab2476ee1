// A throwaway TLS certificate for tests and perf runs on the bed: self-signed, EC P-256, valid
// for a day, made with openssl into a directory the caller owns (and removes).
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export interface CertificateFiles {
  /** PEM private key. */
  key: string;
  /** PEM certificate (self-signed: it is also the clients' CA). */
  cert: string;
}

/**
 * Writes key.pem and cert.pem into `dir` for `subject` (the CN), with `altNames` as the
 * subjectAltName entries when given (e.g. `IP:198.18.0.1`, `DNS:name`).
 */
export function selfSignedCertificate(
  dir: string,
  subject: string,
  altNames: string[] = [],
): CertificateFiles {
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  const args = [
    ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
    ...['-days', '1', '-subj', `/CN=${subject}`, '-keyout', key, '-out', cert],
  ];
  if (altNames.length > 0) args.push('-addext', `subjectAltName=${altNames.join(',')}`);
  execFileSync('openssl', args, { stdio: 'ignore' }); // its progress lines stay out of our output
  return { key, cert };
}

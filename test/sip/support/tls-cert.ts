/** A throw-away self-signed certificate for 127.0.0.1/localhost made with the `openssl` CLI in a temp dir. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCert {
  key: string;
  cert: string;
}

let cached: TestCert | undefined;

export function selfSignedCert(): TestCert {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'cardline-sip-tls-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ], { stdio: 'ignore' });
    cached = { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
    return cached;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface TestPki {
  /** Directory holding ca.pem and, per name, <name>.key.pem / <name>.cert.pem (remove it after the test). */
  dir: string;
  caFile: string;
  files(name: string): { keyFile: string; certFile: string };
}

/**
 * A throw-away CA and leaf certificates it signs (for 127.0.0.1 and localhost), as PEM files in a temp dir — for
 * code that reads certificates from configured paths and verifies peers against a CA file.
 */
export function testPki(names: readonly string[]): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'cardline-pki-'));
  const ssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'ignore', cwd: dir });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl(['req', '-x509', ...ec, '-keyout', 'ca.key.pem', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=Cardline test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  writeFileSync(join(dir, 'leaf.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n');
  for (const n of names) {
    ssl(['req', ...ec, '-keyout', `${n}.key.pem`, '-out', `${n}.csr`, '-subj', `/CN=${n}`]);
    ssl(['x509', '-req', '-in', `${n}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key.pem', '-CAcreateserial', '-days', '1',
      '-out', `${n}.cert.pem`, '-extfile', 'leaf.ext']);
  }
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    files: (name) => ({ keyFile: join(dir, `${name}.key.pem`), certFile: join(dir, `${name}.cert.pem`) }),
  };
}

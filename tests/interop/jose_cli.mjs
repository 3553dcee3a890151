// jose_cli.mjs — the npm `jose` package (panva/jose, pinned in
// tests/package.json) as a command line, for tests/interop/test_jose.py.
//
//   node jose_cli.mjs sign ALG PKCS8PEMFILE PAYLOADJSON [KID]   prints a compact JWS
//   node jose_cli.mjs verify ALG SPKIPEMFILE TOKEN              prints the payload JSON
//
// For HS256/384/512 the key file holds the raw secret (one trailing newline
// dropped, as AuthJWTSigningKey file:PATH reads it).
//
// verify pins the algorithm (algorithms: [ALG]) and needs exp, as a careful
// relying party would.  Exit status: 0 success, 1 token refused, 2 usage.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// jose lives in tests/node_modules (npm ci --prefix tests).
const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', 'package.json'));
const jose = await import(require.resolve('jose'));

const [cmd, alg, keyFile, arg, kid] = process.argv.slice(2);
if (!cmd || !alg || !keyFile || !arg) {
  process.stderr.write('usage: jose_cli.mjs sign|verify ALG KEYFILE PAYLOAD|TOKEN [KID]\n');
  process.exit(2);
}
const pem = readFileSync(keyFile, 'utf8');
const hmac = alg.startsWith('HS');
const secret = () => new TextEncoder().encode(pem.replace(/\r?\n$/, ''));

if (cmd === 'sign') {
  const key = hmac ? secret() : await jose.importPKCS8(pem, alg);
  const header = { alg, typ: 'JWT' };
  if (kid) header.kid = kid;
  const token = await new jose.SignJWT(JSON.parse(arg)).setProtectedHeader(header).sign(key);
  process.stdout.write(token + '\n');
} else if (cmd === 'verify') {
  const key = hmac ? secret() : await jose.importSPKI(pem, alg);
  try {
    const { payload, protectedHeader } = await jose.jwtVerify(arg, key, {
      algorithms: [alg],
      requiredClaims: ['exp'],
    });
    process.stdout.write(JSON.stringify({ header: protectedHeader, payload }) + '\n');
  } catch (e) {
    process.stdout.write((e.code || e.name) + '\n');
    process.exit(1);
  }
} else {
  process.stderr.write(`unknown command ${cmd}\n`);
  process.exit(2);
}

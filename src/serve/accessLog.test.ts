import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { accessLine } from './accessLog.js';

test('accessLine: the Combined Log Format, with request text escaped so that no line can be forged', () => {
  const record = {
    remote: '127.0.0.1',
    time: new Date(Date.UTC(2026, 11, 4, 7, 5, 9)),
    method: 'GET',
    target: '/index.json',
    httpVersion: '1.1',
    status: 200,
    bytes: 1234,
    referer: undefined,
    userAgent: 'kiln',
  };
  assert.equal(
    accessLine(record),
    '127.0.0.1 - - [04/Dec/2026:07:05:09 +0000] "GET /index.json HTTP/1.1" 200 1234 "-" "kiln"',
  );
  const forged = accessLine({ ...record, bytes: 0, userAgent: 'x"\n1.2.3.4 - - [fake] "GET /', target: '/é' });
  assert.equal(forged.split('\n').length, 1);
  assert.match(forged, /"GET \/\\xC3\\xA9 HTTP\/1\.1" 200 - "-" "x\\x22\\x0A1\.2\.3\.4 - - \[fake\] \\x22GET \/"$/);
});

// The AWS SDK for JavaScript v3 against finstream serve: create, put, get, reshard
// (split and merge), delete, and the errors the SDK surfaces as modeled exception
// classes. Usage: node kinesis_js.mjs SDK_DIR ENDPOINT
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.argv[2], 'package.json'));
const K = require('@aws-sdk/client-kinesis');
const { NodeHttpHandler } = require('@smithy/node-http-handler');
const endpoint = process.argv[3];
// The Kinesis client speaks HTTP/2 by default (for SubscribeToShard's event streams);
// the request/response actions work over HTTP/1.1 as well, which serve speaks.
const k = new K.KinesisClient({
  endpoint, region: 'us-east-1', maxAttempts: 1, requestHandler: new NodeHttpHandler(),
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
});

function fail(msg) { console.error('FAIL: ' + msg); process.exit(1); }
const send = (cmd, input) => k.send(new K[cmd + 'Command'](input));

async function expectError(cls, cmd, input) {
  try {
    await send(cmd, input);
  } catch (e) {
    if (!(e instanceof K[cls])) fail(`${cmd}: expected ${cls}, got ${e.name}: ${e.message}`);
    if (e.$metadata.httpStatusCode !== 400) fail(`${cmd}: status ${e.$metadata.httpStatusCode}`);
    return e;
  }
  fail(`${cmd}: expected ${cls}, the call succeeded`);
}

async function waitActive(name) {
  const end = Date.now() + 30000;
  while (Date.now() < end) {
    const d = await send('DescribeStreamSummary', { StreamName: name });
    if (d.StreamDescriptionSummary.StreamStatus === 'ACTIVE') return d.StreamDescriptionSummary;
    await new Promise((r) => setTimeout(r, 50));
  }
  fail(`${name} not ACTIVE in time`);
}

async function readShard(name, shardId) {
  let it = (await send('GetShardIterator', { StreamName: name, ShardId: shardId,
    ShardIteratorType: 'TRIM_HORIZON' })).ShardIterator;
  const out = [];
  for (let i = 0; it && i < 100; i++) {
    const r = await send('GetRecords', { ShardIterator: it });
    for (const rec of r.Records) out.push(Buffer.from(rec.Data).toString());
    if (!r.Records.length && r.MillisBehindLatest === 0 && !r.ChildShards) break;
    it = r.NextShardIterator;
  }
  return out;
}

await send('CreateStream', { StreamName: 'js', ShardCount: 2 });
await waitActive('js');
const put = [];
for (let i = 0; i < 20; i++) put.push({ Data: Buffer.from('r' + i), PartitionKey: 'k' + (i % 4) });
const pr = await send('PutRecords', { StreamName: 'js', Records: put });
if (pr.FailedRecordCount !== 0 || pr.Records.length !== 20) fail('PutRecords: ' + JSON.stringify(pr));
const one = await send('PutRecord', { StreamName: 'js', Data: Buffer.from('single'), PartitionKey: 'k0' });
if (BigInt(one.SequenceNumber).toString(16).slice(-1) !== '2') fail('sequence number layout ' + one.SequenceNumber);
let got = [...await readShard('js', 'shardId-000000000000'), ...await readShard('js', 'shardId-000000000001')];
if (got.length !== 21 || !got.includes('single')) fail('read back ' + got.length + ' records');
const r0 = await send('GetRecords', { ShardIterator: (await send('GetShardIterator', {
  StreamName: 'js', ShardId: one.ShardId, ShardIteratorType: 'AT_SEQUENCE_NUMBER',
  StartingSequenceNumber: one.SequenceNumber })).ShardIterator });
if (!(r0.Records[0].ApproximateArrivalTimestamp instanceof Date) ||
    Math.abs(r0.Records[0].ApproximateArrivalTimestamp - Date.now()) > 600000)
  fail('arrival timestamp ' + r0.Records[0].ApproximateArrivalTimestamp);

// reshard: split shard 0, merge the two children back
await send('SplitShard', { StreamName: 'js', ShardToSplit: 'shardId-000000000000',
  NewStartingHashKey: (1n << 126n).toString() });
await waitActive('js');
await send('MergeShards', { StreamName: 'js', ShardToMerge: 'shardId-000000000002',
  AdjacentShardToMerge: 'shardId-000000000003' });
await waitActive('js');
const shards = (await send('ListShards', { StreamName: 'js' })).Shards;
const open = (await send('ListShards', { StreamName: 'js', ShardFilter: { Type: 'AT_LATEST' } })).Shards;
if (shards.length !== 5 || open.length !== 2) fail(`shards ${shards.length}, open ${open.length}`);

// modeled exceptions
await expectError('ResourceNotFoundException', 'DescribeStream', { StreamName: 'missing' });
await expectError('ResourceInUseException', 'CreateStream', { StreamName: 'js', ShardCount: 1 });
await expectError('InvalidArgumentException', 'SplitShard', { StreamName: 'js',
  ShardToSplit: 'shardId-000000000001', NewStartingHashKey: '1' });
await expectError('InvalidArgumentException', 'PutRecord', { StreamName: 'js', Data: Buffer.from('x'),
  PartitionKey: 'k', ExplicitHashKey: (1n << 128n).toString() });
await expectError('InvalidArgumentException', 'GetRecords', { ShardIterator: 'AAAAAAAAAAAAAAAAAAAAAAAA' });
await expectError('LimitExceededException', 'CreateStream', { StreamName: 'big', ShardCount: 1000 });
const ve = await expectError('ValidationException', 'PutRecord', { StreamName: 'js', Data: Buffer.from('x'),
  PartitionKey: '' }).catch(() => null);
if (ve && !/1 validation error detected/.test(ve.message)) fail('validation message ' + ve.message);

await send('DeleteStream', { StreamName: 'js' });
await expectError('ResourceNotFoundException', 'PutRecord', { StreamName: 'js', Data: Buffer.from('x'),
  PartitionKey: 'k' });
console.log('js: create, put, get, split, merge, delete and modeled exceptions with @aws-sdk/client-kinesis');

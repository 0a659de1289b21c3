// Starts kinesalite as the differential harness's reference, on 127.0.0.1 only, with no
// status delays and a 100-shard account limit, and prints the port when it listens.
// kinesalite throws on a few malformed requests (a null map value, for one); such an
// exception is logged and the connection dropped after two seconds instead of the
// process dying, and the harness counts the case as one the reference cannot answer.
// Usage: node kinesalite_ref.js MODULE_DIR PORT
const kinesalite = require(process.argv[2]);
const port = parseInt(process.argv[3], 10);
const server = kinesalite({createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100});
process.on('uncaughtException', (e) => console.error('reference exception: ' + e.message));
server.setTimeout(2000, (sock) => sock.destroy());
server.listen(port, '127.0.0.1', () => console.log('listening ' + server.address().port));

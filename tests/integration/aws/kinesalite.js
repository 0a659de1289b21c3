// Starts kinesalite on 127.0.0.1 only (its own command line binds every interface) and
// prints the port when it listens. Usage: node kinesalite.js MODULE_DIR PORT
const kinesalite = require(process.argv[2]);
const port = parseInt(process.argv[3], 10);
const server = kinesalite({createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100});
server.listen(port, '127.0.0.1', () => console.log('listening ' + server.address().port));

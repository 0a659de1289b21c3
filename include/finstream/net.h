/* net.h - listening addresses, shared by the servers (serve's API and the console). */
#ifndef FINSTREAM_NET_H
#define FINSTREAM_NET_H

#include <netinet/in.h>

/* "ADDR:PORT" (ADDR an IPv4 address or "localhost"; PORT 0 to 65535) into sa; a bad one
 * is FIN_EINVAL with a message that quotes it. */
int fin_listen_parse(const char *listen, struct sockaddr_in *sa);

#endif

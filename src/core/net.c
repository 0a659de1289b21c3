/* net.c - listening addresses (net.h). */
#include "finstream/net.h"
#include "finstream/error.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int fin_listen_parse(const char *listen, struct sockaddr_in *sa)
{
    const char *colon = strrchr(listen, ':');
    char host[64];
    if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof host)
        return fin_err_set(FIN_EINVAL, "--listen %s: expected ADDR:PORT", listen);
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = 0;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || port < 0 || port > 65535)
        return fin_err_set(FIN_EINVAL, "--listen %s: bad port", listen);
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return fin_err_set(FIN_EINVAL, "--listen %s: '%s' is not an IPv4 address", listen, host);
    return 0;
}

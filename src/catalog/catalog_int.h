/* catalog_int.h - what the crawler and the catalog file share inside src/catalog. */
#ifndef FIN_CATALOG_INT_H
#define FIN_CATALOG_INT_H

#include "finstream/catalog.h"

int fin_catalog__add_database(struct fin_catalog *cat, const char *db);
/* Takes over t (freed on failure too). */
int fin_catalog__add_table(struct fin_catalog *cat, struct fin_table *t);
void fin_catalog__table_free(struct fin_table *t);
/* Takes over values (an array of partition_keys.n strings) on success. */
int fin_table__add_partition(struct fin_table *t, char **values, const char *path);
int fin_table__add_object(struct fin_table *t, const char *key, int64_t size, int64_t mtime,
                          bool gzip);

#endif

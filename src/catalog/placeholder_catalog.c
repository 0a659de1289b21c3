/* catalog: placeholder translation unit so the library exists before its first module. */
typedef int fin_catalog_placeholder;

/* stream: placeholder translation unit so the library exists before its first module. */
typedef int fin_stream_placeholder;

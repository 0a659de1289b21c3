/* png_check.h - just enough PNG decoding for tests to look at a chart: the signature, the
 * IHDR size, and the pixels (IDAT inflated with zlib and unfiltered) so a test can tell a
 * drawn chart from a blank page. 8-bit RGB and RGBA only, which is what cairo writes. */
#ifndef PNG_CHECK_H
#define PNG_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

struct png_info {
    uint32_t width, height;
    int channels;
    size_t non_white;        /* pixels that are not the white background */
    size_t colours;          /* distinct colours, counted up to 4096 */
};

static inline uint32_t png_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline int png_paeth(int a, int b, int c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/* Returns 0 and fills info, or -1 with a reason in why. */
static inline int png_check_file(const char *path, struct png_info *info, const char **why)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    int rc = -1;
    unsigned char *file = NULL, *idat = NULL, *raw = NULL;
    size_t flen = 0, ilen = 0;
    memset(info, 0, sizeof *info);
    FILE *f = fopen(path, "rb");
    if (!f) {
        *why = "cannot open";
        return -1;
    }
    fseek(f, 0, SEEK_END);
    flen = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    file = malloc(flen ? flen : 1);
    if (!file || fread(file, 1, flen, f) != flen) {
        fclose(f);
        *why = "cannot read";
        goto out;
    }
    fclose(f);
    if (flen < 33 || memcmp(file, sig, 8) != 0 || memcmp(file + 12, "IHDR", 4) != 0) {
        *why = "no PNG signature and IHDR";
        goto out;
    }
    info->width = png_be32(file + 16);
    info->height = png_be32(file + 20);
    int depth = file[24], ctype = file[25], interlace = file[28];
    if (depth != 8 || (ctype != 2 && ctype != 6) || interlace != 0) {
        *why = "not 8-bit RGB/RGBA non-interlaced";
        goto out;
    }
    info->channels = ctype == 6 ? 4 : 3;
    idat = malloc(flen);
    for (size_t p = 8; p + 12 <= flen;) {
        uint32_t len = png_be32(file + p);
        if (p + 12 + len > flen)
            break;
        if (memcmp(file + p + 4, "IDAT", 4) == 0) {
            memcpy(idat + ilen, file + p + 8, len);
            ilen += len;
        }
        p += 12 + len;
    }
    size_t stride = (size_t)info->width * (size_t)info->channels;
    uLongf rawlen = (uLongf)((stride + 1) * info->height);
    raw = malloc(rawlen);
    if (!raw || uncompress(raw, &rawlen, idat, (uLong)ilen) != Z_OK ||
        rawlen != (stride + 1) * info->height) {
        *why = "IDAT does not inflate to the image size";
        goto out;
    }
    /* Distinct colours in a small open-addressing set (slot value rgb + 1; 0 is empty). */
    static uint32_t seen[8192];
    memset(seen, 0, sizeof seen);
    int bpp = info->channels;
    for (uint32_t y = 0; y < info->height; y++) {
        unsigned char *row = raw + y * (stride + 1) + 1;
        unsigned char *prev = y ? raw + (y - 1) * (stride + 1) + 1 : NULL;
        int ft = row[-1];
        for (size_t x = 0; x < stride; x++) {
            int a = x >= (size_t)bpp ? row[x - bpp] : 0;
            int b = prev ? prev[x] : 0;
            int c = prev && x >= (size_t)bpp ? prev[x - bpp] : 0;
            int v = row[x];
            switch (ft) {
            case 1: v += a; break;
            case 2: v += b; break;
            case 3: v += (a + b) / 2; break;
            case 4: v += png_paeth(a, b, c); break;
            default: break;
            }
            row[x] = (unsigned char)v;
        }
        for (uint32_t x = 0; x < info->width; x++) {
            const unsigned char *px = row + x * (uint32_t)bpp;
            uint32_t rgb = (uint32_t)px[0] << 16 | (uint32_t)px[1] << 8 | px[2];
            if (rgb != 0xffffff)
                info->non_white++;
            uint32_t h = (rgb * 2654435761u) >> 19;
            while (seen[h] && seen[h] != rgb + 1)
                h = (h + 1) & 8191;
            if (!seen[h] && info->colours < 4096) {
                seen[h] = rgb + 1;
                info->colours++;
            }
        }
    }
    rc = 0;
out:
    free(file);
    free(idat);
    free(raw);
    return rc;
}

#endif

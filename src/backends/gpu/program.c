/* Compute programs, compiled once per context and specialization and kept in an on-disk cache of program
 * binaries; buffers; dispatch. */
#include "backends/gpu/gpu.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- program binary cache ----
 * Linked programs are saved with glGetProgramBinary (GLES 3.0) in a directory: $GLNN_CACHE_DIR when set (an
 * empty value disables the cache), else $XDG_CACHE_HOME/glnn, else ~/.cache/glnn.  A file is named after a
 * 128-bit hash of the renderer, the GL version and the full shader source (name, defines, body); it holds a
 * header (magic, the binary format, its length, the hash again) and the binary.  Loading goes through
 * glProgramBinary and must leave the program linked; any failure (no cache directory, unreadable or stale
 * file, a driver that rejects the binary) falls back to compiling, silently: the cache never makes a call
 * fail.  Files are written to a temporary name and renamed, so readers never see a partial file. */

#define CACHE_MAGIC "glnnPB1"
#define CACHE_MAX_BYTES (64 << 20)

typedef struct {
    char magic[8];
    uint32_t format, length;
    uint64_t hash[2];
} cache_header;

/* FNV-1a over several strings, with a separator so that ("ab", "c") and ("a", "bc") differ. */
static uint64_t hash_strings(uint64_t h, const char *const *parts, int n) {
    for (int i = 0; i < n; i++) {
        for (const unsigned char *c = (const unsigned char *)parts[i]; *c; c++)
            h = (h ^ *c) * 0x100000001b3ull;
        h = (h ^ 0xffu) * 0x100000001b3ull;
    }
    return h;
}

/* The cache directory, or false when the cache is disabled. */
static bool cache_dir(char *buf, size_t size) {
    const char *dir = getenv("GLNN_CACHE_DIR");
    int n;
    if (dir) {
        if (!*dir) return false;
        n = snprintf(buf, size, "%s", dir);
    } else if ((dir = getenv("XDG_CACHE_HOME")) && *dir) {
        n = snprintf(buf, size, "%s/glnn", dir);
    } else if ((dir = getenv("HOME")) && *dir) {
        n = snprintf(buf, size, "%s/.cache/glnn", dir);
    } else {
        return false;
    }
    return n > 0 && (size_t)n < size;
}

/* mkdir -p; true when the directory exists afterwards. */
static bool make_dirs(char *path) {
    struct stat st;
    if (stat(path, &st) == 0) return S_ISDIR(st.st_mode);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            *p = '/';
            return false;
        }
        *p = '/';
    }
    return (mkdir(path, 0755) == 0 || errno == EEXIST) && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Fills the file name and hash for a program; false when the cache is disabled or unusable. */
static bool cache_entry(const glnn_gpu *gpu, const char *const *sources, int n_sources, char *path, size_t size,
                        uint64_t hash[2]) {
    GLint formats = 0;
    glGetIntegerv(GL_NUM_PROGRAM_BINARY_FORMATS, &formats);
    if (glGetError() != GL_NO_ERROR || formats <= 0) return false;
    char dir[1024];
    if (!cache_dir(dir, sizeof dir)) return false;
    const char *device[] = {gpu->vendor, gpu->renderer, gpu->version, gpu->glsl_version};
    hash[0] = hash_strings(hash_strings(0xcbf29ce484222325ull, device, 4), sources, n_sources);
    hash[1] = hash_strings(hash_strings(0x84222325cbf29ce4ull ^ 0x5bd1e995u, sources, n_sources), device, 4);
    int n =
        snprintf(path, size, "%s/%016llx%016llx.bin", dir, (unsigned long long)hash[0], (unsigned long long)hash[1]);
    return n > 0 && (size_t)n < size;
}

/* A program from the cache, or 0. */
static GLuint cache_load(const char *path, const uint64_t hash[2]) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    cache_header h;
    void *data = NULL;
    GLuint program = 0;
    if (fread(&h, sizeof h, 1, f) == 1 && memcmp(h.magic, CACHE_MAGIC, sizeof h.magic) == 0 && h.hash[0] == hash[0] &&
        h.hash[1] == hash[1] && h.length > 0 && h.length <= CACHE_MAX_BYTES && (data = malloc(h.length)) != NULL &&
        fread(data, 1, h.length, f) == h.length) {
        program = glCreateProgram();
        glProgramBinary(program, (GLenum)h.format, data, (GLsizei)h.length);
        GLint ok = 0;
        glGetProgramiv(program, GL_LINK_STATUS, &ok);
        if (!ok || glGetError() != GL_NO_ERROR) {
            glDeleteProgram(program);
            program = 0;
        }
    }
    free(data);
    fclose(f);
    for (int i = 0; i < 16 && glGetError() != GL_NO_ERROR; i++) { /* bounded: a lost context never clears */
    }
    return program;
}

/* Saves a linked program's binary; failures are ignored. */
static void cache_store(const char *path, const uint64_t hash[2], GLuint program) {
    GLint length = 0;
    glGetProgramiv(program, GL_PROGRAM_BINARY_LENGTH, &length);
    void *data = length > 0 && length <= CACHE_MAX_BYTES ? malloc((size_t)length) : NULL;
    GLenum format = 0;
    GLsizei got = 0;
    if (data) glGetProgramBinary(program, length, &got, &format, data);
    bool ok = data && glGetError() == GL_NO_ERROR && got > 0;
    for (int i = 0; i < 16 && glGetError() != GL_NO_ERROR; i++) { /* bounded: a lost context never clears */
    }
    char dir[1024], tmp[1100];
    const char *slash = strrchr(path, '/');
    if (ok && slash && (size_t)(slash - path) < sizeof dir) {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
        ok = make_dirs(dir);
    }
    int fd = -1;
    if (ok && snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) < (int)sizeof tmp) fd = mkstemp(tmp);
    if (fd >= 0) {
        cache_header h;
        memset(&h, 0, sizeof h);
        memcpy(h.magic, CACHE_MAGIC, sizeof h.magic);
        h.format = (uint32_t)format;
        h.length = (uint32_t)got;
        h.hash[0] = hash[0];
        h.hash[1] = hash[1];
        FILE *f = fdopen(fd, "wb");
        bool written = f && fwrite(&h, sizeof h, 1, f) == 1 && fwrite(data, 1, (size_t)got, f) == (size_t)got;
        if (f ? fclose(f) != 0 : close(fd) != 0) written = false;
        if (!written || rename(tmp, path) != 0) unlink(tmp);
    }
    free(data);
}

glnn_status glnn_gpu_compile_shader(GLenum type, const char *name, const char *const *parts, int n, GLuint *out,
                                    glnn_error *err) {
    GLuint shader = glCreateShader(type);
    glShaderSource(shader, n, parts, NULL);
    glCompileShader(shader);
    GLint ok = 0;
    glGetShaderiv(shader, GL_COMPILE_STATUS, &ok);
    if (!ok) {
        char log[1024] = "";
        glGetShaderInfoLog(shader, sizeof log, NULL, log);
        glDeleteShader(shader);
        return glnn_fail(err, GLNN_ERR_DEVICE, "compile shader '%s': %s", name, log);
    }
    *out = shader;
    return GLNN_OK;
}

glnn_status glnn_gpu_link_program(GLuint program, const char *name, glnn_error *err) {
    glLinkProgram(program);
    GLint ok = 0;
    glGetProgramiv(program, GL_LINK_STATUS, &ok);
    if (ok) return GLNN_OK;
    char log[1024] = "";
    glGetProgramInfoLog(program, sizeof log, NULL, log);
    glDeleteProgram(program);
    return glnn_fail(err, GLNN_ERR_DEVICE, "link shader '%s': %s", name, log);
}

/* The part of a family of kernels that comes between the prelude and a kernel's body ("" for none). */
static const char *library_of(glnn_shader id) {
    switch (id) {
    case GLNN_SHADER_CONV2D_TILED:
    case GLNN_SHADER_CONV2D_ROWS:
    case GLNN_SHADER_CONV2D_GEMM: return glnn_shader_source(GLNN_SHADER_CONV2D_COMMON);
    default: return "";
    }
}

/* Builds a compute program: the shader's source after its defines, the shared prelude and its family's part. */
static glnn_status compile(glnn_gpu *gpu, glnn_shader id, const char *defines, GLuint *out, glnn_error *err) {
    const char *name = glnn_shader_name(id), *body = glnn_shader_source(id);
    if (!body) return glnn_fail(err, GLNN_ERR_NOT_FOUND, "compile shader: no shader number %d", (int)id);
    const char *parts[] = {"#version 310 es\n", defines,     glnn_shader_source(GLNN_SHADER_PRELUDE),
                           library_of(id),      "#line 1\n", body};
    const int n_parts = (int)(sizeof parts / sizeof parts[0]);
    char path[1200];
    uint64_t hash[2] = {0, 0};
    bool cached = cache_entry(gpu, parts, n_parts, path, sizeof path, hash);
    if (cached && (*out = cache_load(path, hash)) != 0) return GLNN_OK;
    GLuint shader;
    glnn_status s = glnn_gpu_compile_shader(GL_COMPUTE_SHADER, name, parts, n_parts, &shader, err);
    if (s != GLNN_OK) return s;
    GLuint program = glCreateProgram();
    if (cached) glProgramParameteri(program, GL_PROGRAM_BINARY_RETRIEVABLE_HINT, GL_TRUE);
    glAttachShader(program, shader);
    s = glnn_gpu_link_program(program, name, err);
    glDeleteShader(shader);
    if (s != GLNN_OK) return s;
    if (cached) cache_store(path, hash, program);
    *out = program;
    return GLNN_OK;
}

glnn_status glnn_gpu_program_cached(glnn_gpu *gpu, glnn_shader id, const char *defines, glnn_program_builder build,
                                    GLuint *out, glnn_error *err) {
    const char *name = glnn_shader_name(id);
    if (!name) return glnn_fail(err, GLNN_ERR_NOT_FOUND, "compile shader: no shader number %d", (int)id);
    size_t n = strlen(name) + strlen(defines) + 2;
    char *key = malloc(n);
    if (!key) return glnn_fail(err, GLNN_ERR_MEMORY, "compile shader '%s': out of memory", name);
    snprintf(key, n, "%s\n%s", name, defines);
    for (glnn_program *p = gpu->programs; p; p = p->next)
        if (strcmp(p->key, key) == 0) {
            free(key);
            *out = p->program;
            return GLNN_OK;
        }
    glnn_program *p = calloc(1, sizeof *p);
    glnn_status s = p ? build(gpu, id, defines, &p->program, err)
                      : glnn_fail(err, GLNN_ERR_MEMORY, "compile shader '%s': out of memory", name);
    if (s != GLNN_OK) {
        free(p);
        free(key);
        return s;
    }
    p->key = key;
    p->next = gpu->programs;
    gpu->programs = p;
    *out = p->program;
    return GLNN_OK;
}

glnn_status glnn_gpu_program(glnn_gpu *gpu, glnn_shader id, const char *defines, GLuint *out, glnn_error *err) {
    return glnn_gpu_program_cached(gpu, id, defines, compile, out, err);
}

bool glnn_gpu_texture_buffers(glnn_gpu *gpu) {
    if (gpu->tbo_state != 0) return gpu->tbo_state > 0;
    gpu->tbo_state = -1;
    GLint major = 0, minor = 0;
    glGetIntegerv(GL_MAJOR_VERSION, &major);
    glGetIntegerv(GL_MINOR_VERSION, &minor);
    const char *fn_name = NULL;
    if (major > 3 || (major == 3 && minor >= 2))
        fn_name = "glTexBuffer";
    else if (glnn_gpu_has_extension("GL_EXT_texture_buffer"))
        fn_name = "glTexBufferEXT";
    else if (glnn_gpu_has_extension("GL_OES_texture_buffer"))
        fn_name = "glTexBufferOES";
    if (fn_name) {
        gpu->tex_buffer = (void(GL_APIENTRY *)(GLenum, GLenum, GLuint))eglGetProcAddress(fn_name);
        GLint max = 0;
        glGetIntegerv(GL_MAX_TEXTURE_BUFFER_SIZE, &max);
        if (glGetError() == GL_NO_ERROR && gpu->tex_buffer && max > 0) {
            gpu->max_texture_buffer_size = max;
            gpu->tbo_state = 1;
        }
    }
    for (int i = 0; i < 16 && glGetError() != GL_NO_ERROR; i++) { /* bounded: a lost context never clears */
    }
    return gpu->tbo_state > 0;
}

void glnn_gpu_buffer_view(glnn_gpu *gpu, int unit, GLuint texture, GLenum format, GLuint buffer) {
    glActiveTexture(GL_TEXTURE0 + (GLenum)unit);
    glBindTexture(GL_TEXTURE_BUFFER, texture);
    gpu->tex_buffer(GL_TEXTURE_BUFFER, format, buffer);
    glActiveTexture(GL_TEXTURE0);
}

void glnn_gpu_bind_view(int unit, GLuint texture) {
    glActiveTexture(GL_TEXTURE0 + (GLenum)unit);
    glBindTexture(GL_TEXTURE_BUFFER, texture);
    glActiveTexture(GL_TEXTURE0);
}

glnn_status glnn_gpu_buffer_create(int64_t size, const void *data, GLuint *out, const char *what, glnn_error *err) {
    if (size <= 0) size = 4;
    GLuint b = 0;
    glGenBuffers(1, &b);
    glBindBuffer(GL_SHADER_STORAGE_BUFFER, b);
    glBufferData(GL_SHADER_STORAGE_BUFFER, (GLsizeiptr)size, data, GL_DYNAMIC_COPY);
    glnn_status s = glnn_gpu_check(what, err);
    if (s != GLNN_OK) {
        glDeleteBuffers(1, &b);
        return s;
    }
    *out = b;
    return GLNN_OK;
}

void glnn_gpu_free_state(glnn_context *ctx, void *state, const GLuint *buffers, int n_buffers, const GLuint *textures,
                         int n_textures) {
    if (glnn_gpu_make_current(glnn_gpu_of(ctx), NULL) == GLNN_OK) {
        if (n_buffers) glDeleteBuffers(n_buffers, buffers);
        if (n_textures) glDeleteTextures(n_textures, textures);
    }
    free(state);
}

void glnn_gpu_release_state(glnn_context *ctx, void *state) {
    (void)ctx;
    free(state);
}

void glnn_gpu_buffer_free(GLuint buffer) {
    if (buffer) glDeleteBuffers(1, &buffer);
}

glnn_status glnn_gpu_dispatch(glnn_gpu *gpu, int64_t x, int64_t y, int64_t z, int lx, int ly, int lz, const char *what,
                              glnn_error *err) {
    int64_t gx = (x + lx - 1) / lx, gy = (y + ly - 1) / ly, gz = (z + lz - 1) / lz;
    if (gx > gpu->max_group_count[0] || gy > gpu->max_group_count[1] || gz > gpu->max_group_count[2])
        return glnn_fail(err, GLNN_ERR_MEMORY, "%s: %lld×%lld×%lld work groups exceed the device's limit", what,
                         (long long)gx, (long long)gy, (long long)gz);
    if (gx == 0 || gy == 0 || gz == 0) return GLNN_OK;
    glDispatchCompute((GLuint)gx, (GLuint)gy, (GLuint)gz);
    /* Kernels read tensors as storage buffers or through texture buffer views (gpu/conv2d.c). */
    glMemoryBarrier(GL_SHADER_STORAGE_BARRIER_BIT | GL_BUFFER_UPDATE_BARRIER_BIT | GL_TEXTURE_FETCH_BARRIER_BIT);
    return glnn_gpu_check(what, err);
}

void glnn_gpu_finish(glnn_gpu *gpu) {
    (void)gpu;
    glFinish();
}

/* Compute programs, compiled once per context and specialization; buffers; dispatch. */
#include "gpu/gpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static glnn_status compile(const char *name, const char *defines, GLuint *out, glnn_error *err) {
    const char *body = glnn_shader_source(name);
    if (!body) return glnn_fail(err, GLNN_ERR_NOT_FOUND, "compile shader: no shader named '%s'", name);
    const char *parts[] = {"#version 310 es\n", defines, "#line 1\n", body};
    GLuint shader = glCreateShader(GL_COMPUTE_SHADER);
    glShaderSource(shader, 4, parts, NULL);
    glCompileShader(shader);
    GLint ok = 0;
    glGetShaderiv(shader, GL_COMPILE_STATUS, &ok);
    if (!ok) {
        char log[1024] = "";
        glGetShaderInfoLog(shader, sizeof log, NULL, log);
        glDeleteShader(shader);
        return glnn_fail(err, GLNN_ERR_DEVICE, "compile shader '%s': %s", name, log);
    }
    GLuint program = glCreateProgram();
    glAttachShader(program, shader);
    glLinkProgram(program);
    glDeleteShader(shader);
    glGetProgramiv(program, GL_LINK_STATUS, &ok);
    if (!ok) {
        char log[1024] = "";
        glGetProgramInfoLog(program, sizeof log, NULL, log);
        glDeleteProgram(program);
        return glnn_fail(err, GLNN_ERR_DEVICE, "link shader '%s': %s", name, log);
    }
    *out = program;
    return GLNN_OK;
}

glnn_status glnn_gpu_program(glnn_gpu *gpu, const char *name, const char *defines, GLuint *out, glnn_error *err) {
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
    glnn_status s = p ? compile(name, defines, &p->program, err)
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

void glnn_gpu_buffer_free(GLuint buffer) {
    if (buffer) glDeleteBuffers(1, &buffer);
}

glnn_status glnn_gpu_dispatch(glnn_gpu *gpu, int64_t x, int64_t y, int64_t z, int lx, int ly, int lz,
                              const char *what, glnn_error *err) {
    int64_t gx = (x + lx - 1) / lx, gy = (y + ly - 1) / ly, gz = (z + lz - 1) / lz;
    if (gx > gpu->max_group_count[0] || gy > gpu->max_group_count[1] || gz > gpu->max_group_count[2])
        return glnn_fail(err, GLNN_ERR_MEMORY, "%s: %lld×%lld×%lld work groups exceed the device's limit", what,
                         (long long)gx, (long long)gy, (long long)gz);
    if (gx == 0 || gy == 0 || gz == 0) return GLNN_OK;
    glDispatchCompute((GLuint)gx, (GLuint)gy, (GLuint)gz);
    glMemoryBarrier(GL_SHADER_STORAGE_BARRIER_BIT | GL_BUFFER_UPDATE_BARRIER_BIT);
    return glnn_gpu_check(what, err);
}

void glnn_gpu_finish(glnn_gpu *gpu) {
    (void)gpu;
    glFinish();
}

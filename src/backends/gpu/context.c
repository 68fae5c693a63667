/* EGL without a window: device enumeration, context creation, capability checks. */
#include "backends/gpu/gpu.h"
#include "backends/gpu/fragment/frag.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool has_ext(const char *list, const char *name) {
    if (!list) return false;
    size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) return true;
    return false;
}

typedef struct {
    PFNEGLQUERYDEVICESEXTPROC query_devices;
    PFNEGLQUERYDEVICESTRINGEXTPROC query_device_string;
} egl_device_fns;

static bool device_fns(egl_device_fns *f) {
    const char *client = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
    if (!has_ext(client, "EGL_EXT_device_enumeration") && !has_ext(client, "EGL_EXT_device_base")) return false;
    if (!has_ext(client, "EGL_EXT_platform_device")) return false;
    f->query_devices = (PFNEGLQUERYDEVICESEXTPROC)eglGetProcAddress("eglQueryDevicesEXT");
    f->query_device_string = (PFNEGLQUERYDEVICESTRINGEXTPROC)eglGetProcAddress("eglQueryDeviceStringEXT");
    return f->query_devices && f->query_device_string;
}

#define MAX_DEVICES 16

static int list_devices(egl_device_fns *f, EGLDeviceEXT *devices) {
    EGLint n = 0;
    if (!f->query_devices(MAX_DEVICES, devices, &n)) return 0;
    return n;
}

static bool device_is_software(egl_device_fns *f, EGLDeviceEXT d) {
    return has_ext(f->query_device_string(d, EGL_EXTENSIONS), "EGL_MESA_device_software");
}

static void describe_device(egl_device_fns *f, EGLDeviceEXT d, char *buf, size_t size) {
    const char *exts = f->query_device_string(d, EGL_EXTENSIONS);
    const char *node = NULL;
#ifdef EGL_DRM_RENDER_NODE_FILE_EXT
    if (has_ext(exts, "EGL_EXT_device_drm_render_node")) node = f->query_device_string(d, EGL_DRM_RENDER_NODE_FILE_EXT);
#endif
    if (!node && has_ext(exts, "EGL_EXT_device_drm")) node = f->query_device_string(d, EGL_DRM_DEVICE_FILE_EXT);
    snprintf(buf, size, "%s%s%s", has_ext(exts, "EGL_MESA_device_software") ? "software renderer" : "hardware device",
             node ? " " : "", node ? node : "");
}

glnn_status glnn_list_devices(char *buf, size_t size, size_t *length, glnn_error *err) {
    egl_device_fns f;
    size_t used = 0;
    if (buf && size) buf[0] = '\0';
    if (!device_fns(&f)) {
        if (length) *length = 0;
        return glnn_fail(err, GLNN_ERR_DEVICE,
                         "list devices: EGL has no device enumeration (EGL_EXT_device_enumeration and "
                         "EGL_EXT_platform_device); install libegl-mesa0 or your GPU's EGL driver");
    }
    EGLDeviceEXT devices[MAX_DEVICES];
    int n = list_devices(&f, devices);
    for (int i = 0; i < n; i++) {
        char line[300];
        describe_device(&f, devices[i], line, sizeof line);
        int k =
            snprintf(buf && used < size ? buf + used : NULL, buf && used < size ? size - used : 0, "%d: %s\n", i, line);
        used += (size_t)k;
    }
    if (length) *length = used;
    return GLNN_OK;
}

/* GBM over a DRM render node: the display-less way to a hardware GPU when EGL lacks the device platform
 * (older Mesa, as on a Raspberry Pi).  libgbm is loaded at run time so that glnn does not depend on it. */
struct gbm_device;
typedef struct gbm_device *(*gbm_create_fn)(int fd);
typedef void (*gbm_destroy_fn)(struct gbm_device *device);

static bool open_gbm_display(glnn_gpu *gpu) {
    const char *client = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
    if (!has_ext(client, "EGL_KHR_platform_gbm") && !has_ext(client, "EGL_MESA_platform_gbm")) return false;
    void *lib = dlopen("libgbm.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) return false;
    gbm_create_fn create = (gbm_create_fn)dlsym(lib, "gbm_create_device");
    gbm_destroy_fn destroy = (gbm_destroy_fn)dlsym(lib, "gbm_device_destroy");
    for (int i = 128; i < 136 && create && destroy; i++) {
        char node[32];
        snprintf(node, sizeof node, "/dev/dri/renderD%d", i);
        int fd = open(node, O_RDWR | O_CLOEXEC);
        if (fd < 0) continue;
        struct gbm_device *dev = create(fd);
        EGLDisplay d = dev ? eglGetPlatformDisplay(EGL_PLATFORM_GBM_KHR, dev, NULL) : EGL_NO_DISPLAY;
        if (d != EGL_NO_DISPLAY && eglInitialize(d, NULL, NULL)) {
            gpu->display = d;
            gpu->gbm_lib = lib;
            gpu->gbm_device = dev;
            gpu->gbm_fd = fd;
            snprintf(gpu->egl_info, sizeof gpu->egl_info, "GBM %s", node);
            return true;
        }
        if (dev) destroy(dev);
        close(fd);
    }
    dlclose(lib);
    return false;
}

static void close_gbm_display(glnn_gpu *gpu) {
    if (!gpu->gbm_device) return;
    eglTerminate(gpu->display); /* this display belongs to this context alone */
    ((gbm_destroy_fn)dlsym(gpu->gbm_lib, "gbm_device_destroy"))(gpu->gbm_device);
    close(gpu->gbm_fd);
    dlclose(gpu->gbm_lib);
    gpu->gbm_device = gpu->gbm_lib = NULL;
}

static glnn_status open_display(const char *device, glnn_gpu *gpu, glnn_error *err) {
    egl_device_fns f;
    bool have_devices = device_fns(&f);
    EGLDeviceEXT devices[MAX_DEVICES];
    int n = have_devices ? list_devices(&f, devices) : 0;
    const char *client = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
    int index = -1;

    /* "gpu": the first hardware device, else the software renderer; "auto": a hardware device or nothing. */
    const bool any = strcmp(device, "gpu") == 0, hardware = any || strcmp(device, "auto") == 0;
    if (hardware) {
        for (int i = 0; i < n && index < 0; i++)
            if (!device_is_software(&f, devices[i])) index = i;
    } else if (strcmp(device, "software") != 0) {
        char *end;
        long v = strtol(device, &end, 10);
        if (*device == '\0' || *end != '\0' || v < 0)
            return glnn_fail(
                err, GLNN_ERR_ARGUMENT,
                "create context: unknown device '%s'; use 'auto', 'cpu', 'reference', 'gpu', 'software' or "
                "an EGL device index",
                device);
        if (v >= n)
            return glnn_fail(err, GLNN_ERR_NOT_FOUND,
                             "create context: no EGL device %ld (%d found; see 'glnn info --devices')", v, n);
        index = (int)v;
    }
    if (index >= 0) {
        gpu->display = eglGetPlatformDisplay(EGL_PLATFORM_DEVICE_EXT, devices[index], NULL);
        gpu->software = device_is_software(&f, devices[index]);
        describe_device(&f, devices[index], gpu->egl_info, sizeof gpu->egl_info);
    } else if (!have_devices && hardware && open_gbm_display(gpu)) {
        gpu->software = false;
    } else if (hardware && !any) {
        return glnn_fail(err, GLNN_ERR_NOT_FOUND, "create context: no hardware GPU");
    } else {
        /* Software: Mesa's surfaceless platform, else the software device of the device platform. */
        if (has_ext(client, "EGL_MESA_platform_surfaceless"))
            gpu->display = eglGetPlatformDisplay(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
        for (int i = 0; i < n && gpu->display == EGL_NO_DISPLAY; i++)
            if (device_is_software(&f, devices[i]))
                gpu->display = eglGetPlatformDisplay(EGL_PLATFORM_DEVICE_EXT, devices[i], NULL);
        gpu->software = true;
        snprintf(gpu->egl_info, sizeof gpu->egl_info, "surfaceless platform");
    }
    if (gpu->display == EGL_NO_DISPLAY)
        return glnn_fail(err, GLNN_ERR_DEVICE,
                         "create context: no EGL display without a window system (EGL error 0x%x); install "
                         "libegl-mesa0 and libgl1-mesa-dri for the software renderer, or your GPU's EGL driver",
                         eglGetError());
    EGLint major, minor;
    if (!eglInitialize(gpu->display, &major, &minor)) {
        gpu->display = EGL_NO_DISPLAY;
        return glnn_fail(err, GLNN_ERR_DEVICE, "create context: eglInitialize failed (EGL error 0x%x)", eglGetError());
    }
    return GLNN_OK;
}

/* An OpenGL ES 3.1 context (major = 3) for the compute path or an OpenGL ES 2.0 one (major = 2). */
static glnn_status create_context(glnn_gpu *gpu, int major, glnn_error *err) {
    const char *exts = eglQueryString(gpu->display, EGL_EXTENSIONS);
    if (!eglBindAPI(EGL_OPENGL_ES_API))
        return glnn_fail(err, GLNN_ERR_DEVICE, "create context: this EGL has no OpenGL ES (EGL error 0x%x)",
                         eglGetError());
    EGLConfig config = EGL_NO_CONFIG_KHR;
    bool no_config = has_ext(exts, "EGL_KHR_no_config_context") || has_ext(exts, "EGL_MESA_configless_context");
    bool surfaceless = has_ext(exts, "EGL_KHR_surfaceless_context");
    if (!no_config || !surfaceless) {
        const EGLint attribs[] = {EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_RENDERABLE_TYPE,
                                  major == 2 ? EGL_OPENGL_ES2_BIT : EGL_OPENGL_ES3_BIT, EGL_NONE};
        EGLint n = 0;
        if (!eglChooseConfig(gpu->display, attribs, &config, 1, &n) || n < 1)
            return glnn_fail(err, GLNN_ERR_DEVICE,
                             "create context: no EGL configuration supports OpenGL ES %d with pbuffers", major);
    }
    const EGLint ctx_attribs[] = {EGL_CONTEXT_MAJOR_VERSION, major, EGL_CONTEXT_MINOR_VERSION, major == 2 ? 0 : 1,
                                  EGL_NONE};
    gpu->context = eglCreateContext(gpu->display, config, EGL_NO_CONTEXT, ctx_attribs);
    if (gpu->context == EGL_NO_CONTEXT && major == 2)
        return glnn_fail(err, GLNN_ERR_DEVICE,
                         "create context: the device offers no OpenGL ES 2.0 context (EGL error 0x%x)", eglGetError());
    if (gpu->context == EGL_NO_CONTEXT)
        return glnn_fail(
            err, GLNN_ERR_DEVICE,
            "create context: the device offers no OpenGL ES 3.1 context (EGL error 0x%x); the compute "
            "path needs GLES 3.1 compute shaders (with Mesa, check MESA_GLES_VERSION_OVERRIDE is not below "
            "3.1); GLES 2.0 devices take the fragment path (path 'fragment' or 'auto')",
            eglGetError());
    if (!surfaceless) {
        const EGLint pb[] = {EGL_WIDTH, 1, EGL_HEIGHT, 1, EGL_NONE};
        gpu->surface = eglCreatePbufferSurface(gpu->display, config, pb);
        if (gpu->surface == EGL_NO_SURFACE)
            return glnn_fail(err, GLNN_ERR_DEVICE, "create context: eglCreatePbufferSurface failed (0x%x)",
                             eglGetError());
    }
    if (!eglMakeCurrent(gpu->display, gpu->surface, gpu->surface, gpu->context))
        return glnn_fail(err, GLNN_ERR_DEVICE, "create context: eglMakeCurrent failed (EGL error 0x%x)", eglGetError());
    return GLNN_OK;
}

static void destroy_context(glnn_gpu *gpu) {
    if (gpu->context == EGL_NO_CONTEXT) return;
    eglMakeCurrent(gpu->display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
    if (gpu->surface != EGL_NO_SURFACE) eglDestroySurface(gpu->display, gpu->surface);
    eglDestroyContext(gpu->display, gpu->context);
    gpu->surface = EGL_NO_SURFACE;
    gpu->context = EGL_NO_CONTEXT;
}

static void copy_string(char *dst, size_t size, GLenum name) {
    const GLubyte *s = glGetString(name);
    snprintf(dst, size, "%s", s ? (const char *)s : "?");
}

#ifndef GL_TIME_ELAPSED_EXT
#define GL_TIME_ELAPSED_EXT 0x88BF
#endif
#ifndef GL_QUERY_RESULT_EXT
#define GL_QUERY_RESULT_EXT 0x8866
#endif
#ifndef GL_GPU_DISJOINT_EXT
#define GL_GPU_DISJOINT_EXT 0x8FBB
#endif

bool glnn_gpu_has_extension(const char *name) {
    GLint n = 0;
    glGetIntegerv(GL_NUM_EXTENSIONS, &n);
    for (GLint i = 0; i < n; i++) {
        const GLubyte *e = glGetStringi(GL_EXTENSIONS, (GLuint)i);
        if (e && strcmp((const char *)e, name) == 0) return true;
    }
    return false;
}

/* Timer queries (EXT_disjoint_timer_query), where the driver has them.  Not on software renderers: their
 * "GPU" is the CPU, where wall time after glFinish is the measure (and llvmpipe times compute work as 0). */
static void find_timer(glnn_gpu *gpu) {
    if (gpu->software || strstr(gpu->renderer, "llvmpipe") || strstr(gpu->renderer, "softpipe")) return;
    if (!glnn_gpu_has_extension("GL_EXT_disjoint_timer_query")) return;
    gpu->gen_queries = (void(GL_APIENTRY *)(GLsizei, GLuint *))eglGetProcAddress("glGenQueriesEXT");
    gpu->delete_queries = (void(GL_APIENTRY *)(GLsizei, const GLuint *))eglGetProcAddress("glDeleteQueriesEXT");
    gpu->begin_query = (void(GL_APIENTRY *)(GLenum, GLuint))eglGetProcAddress("glBeginQueryEXT");
    gpu->end_query = (void(GL_APIENTRY *)(GLenum))eglGetProcAddress("glEndQueryEXT");
    gpu->get_query_u64 = (void(GL_APIENTRY *)(GLuint, GLenum, GLuint64 *))eglGetProcAddress("glGetQueryObjectui64vEXT");
    if (!gpu->gen_queries || !gpu->delete_queries || !gpu->begin_query || !gpu->end_query || !gpu->get_query_u64)
        return;
    gpu->gen_queries(1, &gpu->timer_query);
    gpu->has_timer = glGetError() == GL_NO_ERROR && gpu->timer_query != 0;
}

bool glnn_gpu_timer_begin(glnn_gpu *gpu) {
    if (!gpu->has_timer) return false;
    GLint disjoint = 0;
    glGetIntegerv(GL_GPU_DISJOINT_EXT, &disjoint); /* clears the flag */
    gpu->begin_query(GL_TIME_ELAPSED_EXT, gpu->timer_query);
    return true;
}

double glnn_gpu_timer_end(glnn_gpu *gpu) {
    gpu->end_query(GL_TIME_ELAPSED_EXT);
    GLuint64 ns = 0;
    gpu->get_query_u64(gpu->timer_query, GL_QUERY_RESULT_EXT, &ns);
    GLint disjoint = 0;
    glGetIntegerv(GL_GPU_DISJOINT_EXT, &disjoint);
    if (glGetError() != GL_NO_ERROR || disjoint) return -1.0;
    return (double)ns / 1e6;
}

static glnn_status query_capabilities(glnn_gpu *gpu, glnn_error *err) {
    copy_string(gpu->vendor, sizeof gpu->vendor, GL_VENDOR);
    copy_string(gpu->renderer, sizeof gpu->renderer, GL_RENDERER);
    copy_string(gpu->version, sizeof gpu->version, GL_VERSION);
    copy_string(gpu->glsl_version, sizeof gpu->glsl_version, GL_SHADING_LANGUAGE_VERSION);
    GLint major = 0, minor = 0;
    glGetIntegerv(GL_MAJOR_VERSION, &major);
    glGetIntegerv(GL_MINOR_VERSION, &minor);
    if (major < 3 || (major == 3 && minor < 1))
        return glnn_fail(err, GLNN_ERR_DEVICE,
                         "create context: %s offers %s; the compute path needs OpenGL ES 3.1 with compute shaders "
                         "(path 'fragment' or 'auto' runs on GLES 2.0; GLNN_DEVICE=cpu is the CPU reference)",
                         gpu->renderer, gpu->version);
    glGetIntegerv(GL_MAX_COMPUTE_WORK_GROUP_INVOCATIONS, &gpu->max_invocations);
    for (GLuint i = 0; i < 3; i++) {
        glGetIntegeri_v(GL_MAX_COMPUTE_WORK_GROUP_SIZE, i, &gpu->max_group_size[i]);
        glGetIntegeri_v(GL_MAX_COMPUTE_WORK_GROUP_COUNT, i, &gpu->max_group_count[i]);
    }
    glGetIntegerv(GL_MAX_SHADER_STORAGE_BLOCK_SIZE, &gpu->max_ssbo_size);
    glGetIntegerv(GL_MAX_COMPUTE_SHADER_STORAGE_BLOCKS, &gpu->max_ssbo_blocks);
    glGetIntegerv(GL_MAX_COMPUTE_SHARED_MEMORY_SIZE, &gpu->max_shared_memory);
    glGetIntegerv(GL_MAX_TEXTURE_SIZE, &gpu->max_texture_size);
    glGetIntegerv(GL_MAX_UNIFORM_BLOCK_SIZE, &gpu->max_ubo_size);
    find_timer(gpu);
    if (glGetError() != GL_NO_ERROR || gpu->max_invocations < 64 || gpu->max_ssbo_blocks < 4)
        return glnn_fail(err, GLNN_ERR_DEVICE,
                         "create context: %s lacks compute shaders or shader storage buffers; glnn needs OpenGL "
                         "ES 3.1 (use GLNN_DEVICE=cpu for the CPU reference)",
                         gpu->renderer);
    return GLNN_OK;
}

glnn_status glnn_gpu_create(const char *device, const char *path, glnn_gpu **out, glnn_error *err) {
    glnn_gpu *gpu = calloc(1, sizeof *gpu);
    if (!gpu) return glnn_fail(err, GLNN_ERR_MEMORY, "create context: out of memory");
    gpu->display = EGL_NO_DISPLAY;
    gpu->context = EGL_NO_CONTEXT;
    gpu->surface = EGL_NO_SURFACE;
    glnn_status s = open_display(device, gpu, err);
    bool fragment = strcmp(path, "fragment") == 0;
    if (s == GLNN_OK && !fragment) {
        s = create_context(gpu, 3, err);
        if (s == GLNN_OK) s = query_capabilities(gpu, err);
        if (s != GLNN_OK && strcmp(path, "auto") == 0) {
            /* No GLES 3.1 compute shaders: every op as a fragment shader (GLES 2.0). */
            destroy_context(gpu);
            fragment = true;
            s = GLNN_OK;
        }
    }
    if (s == GLNN_OK && fragment) {
        gpu->fragment = true;
        s = create_context(gpu, 2, err);
        if (s == GLNN_OK) s = glnn_frag_init(gpu, err);
    }
    if (s != GLNN_OK) {
        glnn_gpu_free(gpu);
        return s;
    }
    *out = gpu;
    return GLNN_OK;
}

void glnn_gpu_free(glnn_gpu *gpu) {
    if (!gpu) return;
    if (gpu->context != EGL_NO_CONTEXT) {
        /* GL names are deleted only in their own context: when it cannot be made current (lost, or current
         * on another thread), they must not be deleted in whatever context this thread has current. */
        bool current = eglMakeCurrent(gpu->display, gpu->surface, gpu->surface, gpu->context);
        for (glnn_program *p = gpu->programs, *next; p; p = next) {
            next = p->next;
            if (current) glDeleteProgram(p->program);
            free(p->key);
            free(p);
        }
        if (current && gpu->has_timer) gpu->delete_queries(1, &gpu->timer_query);
        glnn_frag_release(gpu);
        destroy_context(gpu);
    }
    /* The display is shared by every context on it: eglTerminate would break the others (a GBM display is
     * this context's own). */
    close_gbm_display(gpu);
    free(gpu);
}

glnn_status glnn_gpu_make_current(glnn_gpu *gpu, glnn_error *err) {
    if (!gpu) return glnn_fail(err, GLNN_ERR_ARGUMENT, "make context current: not a GPU context");
    if (eglGetCurrentContext() == gpu->context) return GLNN_OK;
    if (!eglMakeCurrent(gpu->display, gpu->surface, gpu->surface, gpu->context)) {
        EGLint e = eglGetError();
        if (e == EGL_CONTEXT_LOST)
            return glnn_fail(err, GLNN_ERR_DEVICE,
                             "make context current: the GPU context was lost (EGL_CONTEXT_LOST); create a new context");
        if (e == EGL_BAD_ACCESS)
            return glnn_fail(err, GLNN_ERR_DEVICE,
                             "make context current: the GPU context is current on another thread (EGL_BAD_ACCESS); "
                             "use one context per thread");
        if (e == EGL_BAD_CONTEXT)
            return glnn_fail(err, GLNN_ERR_DEVICE,
                             "make context current: the GPU context no longer exists (EGL_BAD_CONTEXT); create a new "
                             "context");
        return glnn_fail(err, GLNN_ERR_DEVICE, "make context current: eglMakeCurrent failed (EGL error 0x%x)", e);
    }
    return GLNN_OK;
}

/* GLES 3.2 / KHR_robustness: every call fails with this once the context is lost (a GPU reset). */
#define GLNN_GL_CONTEXT_LOST 0x0507

static const char *gl_error_name(GLenum e) {
    switch (e) {
    case GL_INVALID_ENUM: return "GL_INVALID_ENUM";
    case GL_INVALID_VALUE: return "GL_INVALID_VALUE";
    case GL_INVALID_OPERATION: return "GL_INVALID_OPERATION";
    case GL_OUT_OF_MEMORY: return "GL_OUT_OF_MEMORY";
    case GL_INVALID_FRAMEBUFFER_OPERATION: return "GL_INVALID_FRAMEBUFFER_OPERATION";
    case GLNN_GL_CONTEXT_LOST: return "GL_CONTEXT_LOST: the GPU context was lost; create a new context";
    default: return "unknown GL error";
    }
}

glnn_status glnn_gpu_check(const char *what, glnn_error *err) {
    GLenum e = glGetError();
    if (e == GL_NO_ERROR) return GLNN_OK;
    /* Drain the other pending flags; a lost context keeps reporting GL_CONTEXT_LOST, so the loop is bounded. */
    for (int i = 0; i < 16 && glGetError() != GL_NO_ERROR; i++) {
    }
    return glnn_fail(err, e == GL_OUT_OF_MEMORY ? GLNN_ERR_MEMORY : GLNN_ERR_DEVICE, "%s: %s (0x%x)", what,
                     gl_error_name(e), e);
}

/* ---- the back-end hooks both GPU paths use ---- */

glnn_status glnn_gpu_activate(glnn_context *ctx, glnn_error *err) {
    return glnn_gpu_make_current(glnn_gpu_of(ctx), err);
}

bool glnn_gpu_timer_begin_hook(glnn_context *ctx) {
    return glnn_gpu_timer_begin(glnn_gpu_of(ctx));
}

double glnn_gpu_timer_end_hook(glnn_context *ctx) {
    return glnn_gpu_timer_end(glnn_gpu_of(ctx));
}

void glnn_gpu_finish_hook(glnn_context *ctx) {
    glnn_gpu_finish(glnn_gpu_of(ctx));
}

glnn_status glnn_gpu_check_hook(glnn_context *ctx, const char *what, glnn_error *err) {
    (void)ctx;
    return glnn_gpu_check(what, err);
}

const char *glnn_gpu_no_timer(const glnn_context *ctx) {
    return glnn_gpu_of(ctx)->has_timer ? "the driver reported the measurement disjoint"
                                       : "the driver has no timer queries";
}

void glnn_gpu_destroy(glnn_context *ctx) {
    glnn_gpu_free(glnn_gpu_of(ctx));
    ctx->impl = NULL;
}

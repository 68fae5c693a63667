/* EGL without a window: device enumeration, context creation, capability checks. */
#include "gpu/gpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static glnn_status open_display(const char *device, glnn_gpu *gpu, glnn_error *err) {
    egl_device_fns f;
    bool have_devices = device_fns(&f);
    EGLDeviceEXT devices[MAX_DEVICES];
    int n = have_devices ? list_devices(&f, devices) : 0;
    const char *client = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
    int index = -1;

    if (strcmp(device, "auto") == 0) {
        for (int i = 0; i < n && index < 0; i++)
            if (!device_is_software(&f, devices[i])) index = i;
    } else if (strcmp(device, "software") != 0) {
        char *end;
        long v = strtol(device, &end, 10);
        if (*device == '\0' || *end != '\0' || v < 0)
            return glnn_fail(err, GLNN_ERR_ARGUMENT,
                             "create context: unknown device '%s'; use an index, 'auto', 'software' or 'cpu'", device);
        if (v >= n)
            return glnn_fail(err, GLNN_ERR_NOT_FOUND,
                             "create context: no EGL device %ld (%d found; see 'glnn info --devices')", v, n);
        index = (int)v;
    }
    if (index >= 0) {
        gpu->display = eglGetPlatformDisplay(EGL_PLATFORM_DEVICE_EXT, devices[index], NULL);
        gpu->software = device_is_software(&f, devices[index]);
        describe_device(&f, devices[index], gpu->egl_info, sizeof gpu->egl_info);
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

static glnn_status create_context(glnn_gpu *gpu, glnn_error *err) {
    const char *exts = eglQueryString(gpu->display, EGL_EXTENSIONS);
    if (!eglBindAPI(EGL_OPENGL_ES_API))
        return glnn_fail(err, GLNN_ERR_DEVICE, "create context: this EGL has no OpenGL ES (EGL error 0x%x)",
                         eglGetError());
    EGLConfig config = EGL_NO_CONFIG_KHR;
    bool no_config = has_ext(exts, "EGL_KHR_no_config_context") || has_ext(exts, "EGL_MESA_configless_context");
    bool surfaceless = has_ext(exts, "EGL_KHR_surfaceless_context");
    if (!no_config || !surfaceless) {
        const EGLint attribs[] = {EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_RENDERABLE_TYPE, EGL_OPENGL_ES3_BIT, EGL_NONE};
        EGLint n = 0;
        if (!eglChooseConfig(gpu->display, attribs, &config, 1, &n) || n < 1)
            return glnn_fail(err, GLNN_ERR_DEVICE,
                             "create context: no EGL configuration supports OpenGL ES 3 with pbuffers");
    }
    const EGLint ctx_attribs[] = {EGL_CONTEXT_MAJOR_VERSION, 3, EGL_CONTEXT_MINOR_VERSION, 1, EGL_NONE};
    gpu->context = eglCreateContext(gpu->display, config, EGL_NO_CONTEXT, ctx_attribs);
    if (gpu->context == EGL_NO_CONTEXT)
        return glnn_fail(err, GLNN_ERR_DEVICE,
                         "create context: the device offers no OpenGL ES 3.1 context (EGL error 0x%x); glnn needs "
                         "GLES 3.1 compute shaders (with Mesa, check MESA_GLES_VERSION_OVERRIDE is not below 3.1)",
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

static void copy_string(char *dst, size_t size, GLenum name) {
    const GLubyte *s = glGetString(name);
    snprintf(dst, size, "%s", s ? (const char *)s : "?");
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
                         "create context: %s offers %s; glnn needs OpenGL ES 3.1 with compute shaders (use "
                         "GLNN_DEVICE=cpu for the CPU reference)",
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
    if (glGetError() != GL_NO_ERROR || gpu->max_invocations < 64 || gpu->max_ssbo_blocks < 4)
        return glnn_fail(err, GLNN_ERR_DEVICE,
                         "create context: %s lacks compute shaders or shader storage buffers; glnn needs OpenGL "
                         "ES 3.1 (use GLNN_DEVICE=cpu for the CPU reference)",
                         gpu->renderer);
    return GLNN_OK;
}

glnn_status glnn_gpu_create(const char *device, glnn_gpu **out, glnn_error *err) {
    glnn_gpu *gpu = calloc(1, sizeof *gpu);
    if (!gpu) return glnn_fail(err, GLNN_ERR_MEMORY, "create context: out of memory");
    gpu->display = EGL_NO_DISPLAY;
    gpu->context = EGL_NO_CONTEXT;
    gpu->surface = EGL_NO_SURFACE;
    glnn_status s = open_display(device, gpu, err);
    if (s == GLNN_OK) s = create_context(gpu, err);
    if (s == GLNN_OK) s = query_capabilities(gpu, err);
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
        eglMakeCurrent(gpu->display, gpu->surface, gpu->surface, gpu->context);
        for (glnn_program *p = gpu->programs, *next; p; p = next) {
            next = p->next;
            glDeleteProgram(p->program);
            free(p->key);
            free(p);
        }
        eglMakeCurrent(gpu->display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
        if (gpu->surface != EGL_NO_SURFACE) eglDestroySurface(gpu->display, gpu->surface);
        eglDestroyContext(gpu->display, gpu->context);
    }
    /* The display is shared by every context on it: eglTerminate would break the others. */
    free(gpu);
}

glnn_status glnn_gpu_make_current(glnn_gpu *gpu, glnn_error *err) {
    if (eglGetCurrentContext() == gpu->context) return GLNN_OK;
    if (!eglMakeCurrent(gpu->display, gpu->surface, gpu->surface, gpu->context))
        return glnn_fail(err, GLNN_ERR_DEVICE, "make context current: eglMakeCurrent failed (EGL error 0x%x)",
                         eglGetError());
    return GLNN_OK;
}

static const char *gl_error_name(GLenum e) {
    switch (e) {
    case GL_INVALID_ENUM: return "GL_INVALID_ENUM";
    case GL_INVALID_VALUE: return "GL_INVALID_VALUE";
    case GL_INVALID_OPERATION: return "GL_INVALID_OPERATION";
    case GL_OUT_OF_MEMORY: return "GL_OUT_OF_MEMORY";
    case GL_INVALID_FRAMEBUFFER_OPERATION: return "GL_INVALID_FRAMEBUFFER_OPERATION";
    default: return "unknown GL error";
    }
}

glnn_status glnn_gpu_check(const char *what, glnn_error *err) {
    GLenum e = glGetError();
    if (e == GL_NO_ERROR) return GLNN_OK;
    while (glGetError() != GL_NO_ERROR) {
    }
    return glnn_fail(err, e == GL_OUT_OF_MEMORY ? GLNN_ERR_MEMORY : GLNN_ERR_DEVICE, "%s: %s (0x%x)", what,
                     gl_error_name(e), e);
}

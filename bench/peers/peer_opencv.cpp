// glnn's benchmark layers on OpenCV DNN (Debian's libopencv-dnn-dev), a net built in code per case:
//   f32   float NCHW tensors q/255, float weights; each Conv2D followed by a ReLU6 layer with bounds [0, 1]
//         (the clamp of glnn's DEFAULT activation), which OpenCV fuses into the convolution;
//   int8  the same net through cv::dnn::Net::quantize (8-bit per-channel weights, 8-bit tensors calibrated on
//         the case's input), int8 input and output.
// Threads: cv::setNumThreads. Timing covers Net::forward only (input set once, as glnn binds it once).
#include "peers.h"

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#define TYPES "f32,int8"

namespace {

struct Built {
    cv::dnn::Net net;
    cv::Mat input; // NCHW float q/255
    int out_c, out_h, out_w;
    bool dense_out; // the output is a vector (Dense)
};

cv::Mat nchw_input(const peer_case *c) {
    int shape[4] = {1, c->in_c, c->in_h, c->in_w};
    cv::Mat m(4, shape, CV_32F);
    float *p = m.ptr<float>();
    for (int ch = 0; ch < c->in_c; ch++)
        for (int y = 0; y < c->in_h; y++)
            for (int x = 0; x < c->in_w; x++)
                p[((size_t)ch * c->in_h + y) * c->in_w + x] =
                    c->input[((size_t)y * c->in_w + x) * c->in_c + ch] / 255.0f;
    return m;
}

int add_clamp(cv::dnn::Net &net, const std::string &name, int from) {
    cv::dnn::LayerParams lp;
    lp.set("min_value", 0.0f);
    lp.set("max_value", 1.0f);
    int id = net.addLayer(name + "/clamp", "ReLU6", lp);
    net.connect(from, 0, id, 0);
    return id;
}

// Builds the case's layers as an OpenCV net; ids[j] is the id whose output is layer j's result.
Built build(const peer_case *c) {
    Built b;
    b.net.setInputsNames({"data"});
    std::vector<int> ids((size_t)c->n_layers);
    for (int j = 0; j < c->n_layers; j++) {
        const peer_layer *l = &c->layers[j];
        int from = l->input < 0 ? 0 : ids[(size_t)l->input];
        cv::dnn::LayerParams lp;
        int id = -1;
        switch (l->kind) {
        case PEER_CONV: {
            int cg = peer_group_inputs(l), k = l->k;
            int wshape[4] = {l->cout, cg, k, k};
            cv::Mat w(4, wshape, CV_32F), bias(1, l->cout, CV_32F);
            for (int co = 0; co < l->cout; co++)
                for (int ci = 0; ci < cg; ci++)
                    for (int t = 0; t < k * k; t++)
                        w.ptr<float>()[((size_t)co * cg + ci) * k * k + t] =
                            l->weights[((size_t)t * cg + ci) * l->cout + co];
            for (int co = 0; co < l->cout; co++)
                bias.at<float>(0, co) = l->bias[co];
            lp.set("kernel_size", k);
            lp.set("stride", l->s);
            // OpenCV 4.6 refuses explicit asymmetric pads; its "SAME" is TensorFlow's rule, as SPEC §3
            lp.set("pad_mode", l->same ? "SAME" : "VALID");
            lp.set("num_output", l->cout);
            lp.set("group", l->groups);
            lp.set("bias_term", true);
            lp.blobs = {w, bias};
            id = b.net.addLayer(l->name, "Convolution", lp);
            b.net.connect(from, 0, id, 0);
            if (l->clamp) id = add_clamp(b.net, l->name, id);
            break;
        }
        case PEER_ADD:
            lp.set("operation", "sum");
            id = b.net.addLayer(l->name, "Eltwise", lp);
            b.net.connect(from, 0, id, 0);
            b.net.connect(ids[(size_t)l->other], 0, id, 1);
            id = add_clamp(b.net, l->name, id);
            break;
        case PEER_RESIZE:
            lp.set("interpolation", "bilinear");
            lp.set("half_pixel_centers", true);
            lp.set("height", l->out_h);
            lp.set("width", l->out_w);
            id = b.net.addLayer(l->name, "Resize", lp);
            b.net.connect(from, 0, id, 0);
            break;
        case PEER_POOL:
            lp.set("pool", "ave");
            lp.set("global_pooling", true);
            id = b.net.addLayer(l->name, "Pooling", lp);
            b.net.connect(from, 0, id, 0);
            break;
        case PEER_DENSE: {
            cv::Mat w(l->cout, l->cin, CV_32F), bias(1, l->cout, CV_32F);
            for (int o = 0; o < l->cout; o++) {
                for (int i = 0; i < l->cin; i++)
                    w.at<float>(o, i) = l->weights[(size_t)i * l->cout + o];
                bias.at<float>(0, o) = l->bias[o];
            }
            lp.set("num_output", l->cout);
            lp.set("bias_term", true);
            lp.set("axis", 1);
            lp.blobs = {w, bias};
            id = b.net.addLayer(l->name, "InnerProduct", lp);
            b.net.connect(from, 0, id, 0);
            break;
        }
        }
        ids[(size_t)j] = id;
    }
    const peer_layer *last = &c->layers[c->n_layers - 1];
    b.out_c = last->cout, b.out_h = last->out_h, b.out_w = last->out_w;
    b.dense_out = last->kind == PEER_DENSE;
    b.input = nchw_input(c);
    b.net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    b.net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    return b;
}

// The reference output of the whole case, NHWC (a vector for Dense).
std::vector<float> reference(const peer_case *c) {
    std::vector<std::vector<float>> outs((size_t)c->n_layers);
    std::vector<float> in((size_t)c->in_h * c->in_w * c->in_c);
    for (size_t i = 0; i < in.size(); i++)
        in[i] = c->input[i] / 255.0f;
    for (int j = 0; j < c->n_layers; j++) {
        const peer_layer *l = &c->layers[j];
        outs[(size_t)j].resize((size_t)peer_output_count(l));
        const float *src = l->input < 0 ? in.data() : outs[(size_t)l->input].data();
        const float *other = l->other < 0 ? nullptr : outs[(size_t)l->other].data();
        peer_reference_layer(l, l->weights, l->bias, src, other, outs[(size_t)j].data());
    }
    return outs.back();
}

// Largest absolute difference between the net's output (NCHW, or a vector) and the reference.
double difference(const Built &b, const cv::Mat &out, const std::vector<float> &want) {
    cv::Mat f;
    out.convertTo(f, CV_32F);
    const float *p = f.ptr<float>();
    double d = 0;
    if (b.dense_out) {
        for (int o = 0; o < b.out_c; o++)
            d = std::max(d, (double)std::fabs(p[o] - want[(size_t)o]));
        return d;
    }
    for (int ch = 0; ch < b.out_c; ch++)
        for (int y = 0; y < b.out_h; y++)
            for (int x = 0; x < b.out_w; x++)
                d = std::max(d, (double)std::fabs(p[((size_t)ch * b.out_h + y) * b.out_w + x] -
                                                  want[((size_t)y * b.out_w + x) * b.out_c + ch]));
    return d;
}

struct Runner {
    cv::dnn::Net *net;
    cv::Mat out;
};

bool run_forward(void *ctx) {
    Runner *r = static_cast<Runner *>(ctx);
    try {
        r->out = r->net->forward();
    } catch (const cv::Exception &e) {
        std::fprintf(stderr, "peer_opencv: forward: %s\n", e.what());
        return false;
    }
    return true;
}

} // namespace

int main(int argc, char **argv) {
    peer_options o;
    if (!peer_parse_args(argc, argv, "peer_opencv", TYPES, &o)) return 2;
    if (o.list) return peer_list_cases();
    cv::setNumThreads(o.threads);
    int rc = 0;
    peer_report_header(&o);
    for (int i = 0; i < peer_case_count(); i++) {
        if (!peer_case_selected(i, &o)) continue;
        peer_case c;
        if (!peer_case_build(i, &c)) {
            std::fprintf(stderr, "peer_opencv: out of memory\n");
            return 1;
        }
        try {
            Built b = build(&c);
            std::vector<float> want;
            if (o.check) want = reference(&c);
            if (peer_type_selected("f32", &o)) {
                b.net.setInput(b.input);
                Runner r{&b.net, cv::Mat()};
                double median, min, diff = -1;
                bool ok = run_forward(&r);
                if (ok && o.check) {
                    diff = difference(b, r.out, want);
                    if (diff > 1e-4) {
                        std::fprintf(stderr, "peer_opencv: %s f32: %g from the reference\n", c.name, diff);
                        rc = 1;
                    }
                }
                if (ok && peer_time(run_forward, &r, o.runs, &median, &min))
                    peer_report(&o, &c, "opencv-f32", median, min, diff, "abs");
                else
                    rc = 1;
            }
            if (peer_type_selected("int8", &o)) {
                cv::dnn::Net q = b.net.quantize(std::vector<cv::Mat>{b.input}, CV_8S, CV_8S);
                q.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
                q.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
                std::vector<float> in_scale, out_scale;
                std::vector<int> in_zp, out_zp;
                q.getInputDetails(in_scale, in_zp);
                q.getOutputDetails(out_scale, out_zp);
                cv::Mat qin;
                b.input.convertTo(qin, CV_8S, 1.0 / in_scale[0], in_zp[0]);
                q.setInput(qin);
                Runner r{&q, cv::Mat()};
                double median, min, diff = -1;
                bool ok = run_forward(&r);
                if (ok && o.check) {
                    // per-tensor 8-bit activations calibrated on this input: an informative difference, in
                    // output LSB; a broken net shows tens of LSB
                    cv::Mat deq;
                    r.out.convertTo(deq, CV_32F, out_scale[0], -out_scale[0] * out_zp[0]);
                    diff = difference(b, deq, want) / out_scale[0];
                }
                if (ok && peer_time(run_forward, &r, o.runs, &median, &min))
                    peer_report(&o, &c, "opencv-int8", median, min, diff, "LSB");
                else
                    rc = 1;
            }
        } catch (const cv::Exception &e) {
            std::fprintf(stderr, "peer_opencv: %s: %s\n", c.name, e.what());
            rc = 1;
        }
        peer_case_free(&c);
    }
    return rc;
}

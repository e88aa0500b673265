// `typegrad train`: the network's training entry point (compiled in, else compiled on first use)
// with the options, and --plot after it.
#include "train.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "compiled_in.hpp"
#include "engines.hpp"
#include "plot.hpp"
#include "run_setup.hpp"
#include "spec.hpp"
#include "typegrad/data/dataset.hpp"

namespace typegrad::cli {

namespace {

int run_with_network(const TrainOptions& o, const io::CheckpointImage* resume) {
    if (const PluginApi* n = compiled_in_network(o.net, o.cost, o.dtype, Need::training)) return n->train(o, resume);
    // not compiled in with this cost or element type: compiled on first use
    std::string error;
    NetworkSpec spec = parse_network(o.net, error);
    if (!error.empty()) throw UsageError(cat("--net: ", error));
    std::string cost = o.cost;
    if (cost.empty()) cost = compiled_in_cost(o.net);  // the menu's cost for a menu spec (in double)
    if (cost.empty()) cost = default_cost(spec);       // else the spec's own
    if (const std::string why = cost_fit_error(spec, cost); !why.empty()) throw UsageError(why);
    TrainOptions text_options;
    const TrainOptions* options = &o;
    if (reads_text(spec)) {  // the vocabulary is part of the type: read before the compile
        text_options = o;
        text_options.text = true;
        if (text_options.vocabulary.empty()) {
            if (!o.data_dir || o.data_from_environment)
                throw UsageError(cat("--net ", o.net, ": this network reads text (seqT): name a UTF-8 text file with --data FILE.txt"));
            text_options.vocabulary = data::read_text(*o.data_dir, spec.input[0]).vocabulary;
        }
        bind_vocabulary(spec, text_options.vocabulary.size());
        if (const SpecShapes shapes = infer_shapes(spec); !shapes.error.empty()) throw UsageError(cat("--net ", o.net, ": ", shapes.error));
        if (const std::string why = limits_error(spec); !why.empty())
            throw UsageError(cat("--net ", o.net, " with the vocabulary of ", text_options.vocabulary.size(), " characters is beyond what "
                                 "typegrad compiles: ", why, " (README, \"Limits\")"));
        options = &text_options;
    }
    // batch norm: the mini-batch is one program, compiled for --batch examples (10, the chunk
    // every other command compiles, shares their compiled network); what cannot be is refused
    // before the compile
    std::size_t whole_batch = 0;
    if (uses_batch_norm(spec)) {
        check_batch_norm_options(o, o.grad == "autodiff" ? o.batch : 0);
        whole_batch = o.batch == 10 ? 0 : o.batch;
    }
    JitRequest request{std::move(spec), std::move(cost), o.dtype, "--net", whole_batch};
    // training alone, with the default engine alone unless --grad names another (the others cost
    // compile time)
    const auto defaults = engine_names_of(default_engines{});
    request.variant = std::find(defaults.begin(), defaults.end(), o.grad) == defaults.end() ? JitRequest::Variant::every_engine
                                                                                            : JitRequest::Variant::default_engine;
    return load_network(request).train(*options, resume);
}

}  // namespace

const std::vector<std::string>& network_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> v;
        for (const CompiledIn& c : compiled_in())
            if (c.api->train != nullptr && std::find(v.begin(), v.end(), c.name) == v.end()) v.push_back(c.name);
        return v;
    }();
    return names;
}

const std::vector<std::string>& engine_names() {
    static const std::vector<std::string> names = engine_names_of(engines{});
    return names;
}

namespace {
/// --plot: the --metrics file drawn, never onto the run's checkpoints.
PlotOptions plot_options(const TrainOptions& o) {
    PlotOptions p{{*o.metrics}, *o.plot, "--plot", {}};
    if (o.save) p.inputs.push_back({*o.save, "the --save checkpoint"});
    if (o.resume) p.inputs.push_back({*o.resume, "the --resume checkpoint"});
    return p;
}

/// --plot: drawn once training has finished.
int with_plot(const TrainOptions& o, int rc) {
    if (rc != exit_ok || !o.plot || !o.metrics) return rc;
    return run_plot(plot_options(o));
}
}  // namespace

int run_train(const TrainOptions& options) {
    // Like --save and --metrics, --plot is checked before training, not found unwritable after it.
    if (options.plot && options.metrics) (void)plot_output(plot_options(options));
    if (!options.resume) return with_plot(options, run_with_network(options, nullptr));
    const io::CheckpointImage image = read_resume(*options.resume);
    TrainOptions o = options;
    if (!o.net_given) {
        // The network comes from the checkpoint: a compiled-in one, else one compiled on first use.
        if (const CompiledIn* c = compiled_in_holding(image, Need::training)) {
            o.net = c->name;
            o.cost = c->api->cost;
            o.dtype = c->api->element_type;
        } else {
            const JitRequest r = checkpoint_request(image.header, cat("--resume ", o.resume->string()));
            o.net = spec_text(r.network);
            o.cost = r.cost;
            o.dtype = r.element_type;
        }
    }
    if (!image.header.vocabulary.empty() && !data::decode_utf8(image.header.vocabulary, o.vocabulary))
        throw RunError(cat("--resume ", o.resume->string(), ": its vocabulary is not UTF-8 text: the file is damaged"));
    return with_plot(o, run_with_network(o, &image));
}

}  // namespace typegrad::cli

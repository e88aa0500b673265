// `typegrad train`: the menus and the dispatch to the training driver (drive.hpp). The MLPs of
// the menu are instantiated here, LeNet-5 in train_lenet.cpp.
#include "train.hpp"

#include <string>
#include <vector>

#include "drive.hpp"
#include "jit.hpp"
#include "plot.hpp"

namespace typegrad::cli {

// Instantiated in their own translation units (train_lenet.cpp, train_more.cpp), which compile
// in parallel with this one.
extern template int train_network<lenet::network<float>>(const TrainOptions&, const io::CheckpointImage*);
extern template bool network_holds<lenet::network<float>>(const io::CheckpointHeader&);
extern template int train_network<sigmoid_net<cost::CrossEntropy, 784, 30, 10>::network<float>>(const TrainOptions&,
                                                                                               const io::CheckpointImage*);
extern template bool network_holds<sigmoid_net<cost::CrossEntropy, 784, 30, 10>::network<float>>(const io::CheckpointHeader&);
extern template int train_network<sigmoid_net<cost::CrossEntropy, 784, 100, 10>::network<float>>(const TrainOptions&,
                                                                                                const io::CheckpointImage*);
extern template bool network_holds<sigmoid_net<cost::CrossEntropy, 784, 100, 10>::network<float>>(const io::CheckpointHeader&);
extern template int train_network<relu_classifier::network<float>>(const TrainOptions&, const io::CheckpointImage*);
extern template bool network_holds<relu_classifier::network<float>>(const io::CheckpointHeader&);

namespace {

template <class... Ms>
int run_with_network(const TrainOptions& o, const io::CheckpointImage* resume, type_list<Ms...>) {
    int rc = -1;
    if (o.dtype == "float" &&
        ((menu_matches<Ms>(o.net, o.cost) ? (rc = train_network<Ms>(o, resume), true) : false) || ...))
        return rc;
    // not in the menu in this cost or element type: compiled on first use
    std::string error;
    NetworkSpec spec = parse_network(o.net, error);
    if (!error.empty()) throw UsageError(cat("--net: ", error));
    std::string cost = o.cost;
    if (cost.empty()) {  // the menu's cost for a menu spec (in double), else the spec's own
        ((menu_matches<Ms>(o.net, "") && cost.empty() ? (void)(cost = std::string(Ms::cost_type::name)) : void()), ...);
        if (cost.empty()) cost = default_cost(spec);
    }
    if (const std::string why = cost_fit_error(spec, cost); !why.empty()) throw UsageError(why);
    // batch norm: the mini-batch is one program, compiled for --batch examples (10, the chunk
    // every other command compiles, shares their compiled network); what cannot be is refused
    // before the compile
    std::size_t whole_batch = 0;
    if (uses_batch_norm(spec)) {
        check_batch_norm_options(o, o.grad == "autodiff" ? o.batch : 0);
        whole_batch = o.batch == 10 ? 0 : o.batch;
    }
    return load_network({std::move(spec), std::move(cost), o.dtype, "--net", whole_batch}).train(o, resume);
}

}  // namespace

const std::vector<std::string>& network_names() {
    static const std::vector<std::string> names = shape_names_of(float_networks{});
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
    if (!options.resume) return with_plot(options, run_with_network(options, nullptr, float_networks{}));
    const io::CheckpointImage image = read_resume(*options.resume);
    TrainOptions o = options;
    if (!o.net_given) {
        // The network comes from the checkpoint: the menu's, else one compiled on first use.
        std::string name = []<class... Ms>(const io::CheckpointHeader& h, type_list<Ms...>) {
            std::string found;
            ((network_holds<Ms>(h) ? (found = shape_name<Ms>(), true) : false) || ...);
            return found;
        }(image.header, float_networks{});
        if (name.empty()) {
            const JitRequest r = checkpoint_request(image.header, cat("--resume ", o.resume->string()));
            name = spec_text(r.network);
            o.cost = r.cost;
            o.dtype = r.element_type;
        }
        o.net = name;
    }
    return with_plot(o, run_with_network(o, &image, float_networks{}));
}

}  // namespace typegrad::cli

// `typegrad train`: the menus and the dispatch to the training driver (drive.hpp). The MLPs of
// the menu are instantiated here, LeNet-5 in train_lenet.cpp.
#include "train.hpp"

#include <string>
#include <vector>

#include "drive.hpp"
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
    const bool found = ((menu_matches<Ms>(o.net, o.cost) ? (rc = train_network<Ms>(o, resume), true) : false) || ...);
    if (found) return rc;
    std::vector<std::string> costs;  // the costs the spec is compiled in with
    ((menu_matches<Ms>(o.net, "") ? costs.push_back(std::string(Ms::cost_type::name)) : void()), ...);
    if (!costs.empty())
        throw UsageError(cat("--cost: ", o.net, " is compiled in with the ", join(costs), " cost", costs.size() > 1 ? "s" : "",
                             ", not ", o.cost));
    throw UsageError(cat("--net: unknown network shape '", o.net, "'; the compiled-in shapes are ", join(network_names())));
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
/// --plot: the --metrics file drawn once training has finished.
int with_plot(const TrainOptions& o, int rc) {
    if (rc != exit_ok || !o.plot || !o.metrics) return rc;
    return run_plot({{*o.metrics}, *o.plot});
}
}  // namespace

int run_train(const TrainOptions& options) {
    if (!options.resume) return with_plot(options, run_with_network(options, nullptr, float_networks{}));
    const io::CheckpointImage image = read_resume(*options.resume);
    TrainOptions o = options;
    if (!o.net_given) {
        // The network comes from the checkpoint.
        const std::string name = []<class... Ms>(const io::CheckpointHeader& h, type_list<Ms...>) {
            std::string found;
            ((network_holds<Ms>(h) ? (found = shape_name<Ms>(), true) : false) || ...);
            return found;
        }(image.header, float_networks{});
        if (name.empty())
            throw RunError(cat("--resume ", o.resume->string(), ": holds a ", describe_checkpoint(image.header),
                               ", not one of the networks train runs: ", join(network_names()),
                               " (float)"));
        o.net = name;
    }
    return with_plot(o, run_with_network(o, &image, float_networks{}));
}

}  // namespace typegrad::cli

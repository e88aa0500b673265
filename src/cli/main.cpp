// typegrad: the command-line tool. This file is the CLI11 app (the only file that includes CLI11)
// and the error handling; options.cpp validates what was parsed, train.cpp and eval.cpp run it.
//
// Every error is one line on stderr, "typegrad: error: <option or file>: <what is wrong>", with
// exit code 2 for bad usage and 1 for data or file errors.
#include <CLI/CLI.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <exception>
#include <functional>
#include <iostream>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "derive.hpp"
#include "jit.hpp"
#include "distributed.hpp"
#include "export.hpp"
#include "plot.hpp"
#include "predict.hpp"
#include "spec.hpp"
#include "eval.hpp"
#include "interrupt.hpp"
#include "options.hpp"
#include "report.hpp"
#include "text.hpp"
#include "train.hpp"
#include "typegrad/data/dataset.hpp"

namespace {

using namespace typegrad::cli;

constexpr const char* version = "typegrad " TYPEGRAD_VERSION;

/// The one check of --net, for every subcommand: a spec (spec.hpp), put in canonical form. A
/// spec not in the compiled-in menu is compiled on first use (jit.hpp).
CLI::Validator network_validator() {
    return CLI::Validator(
        [](std::string& value) -> std::string {
            std::string error;
            const std::string canonical = canonical_network(value, error);
            if (canonical.empty()) return error;
            value = canonical;
            return {};
        },
        "", "NETWORK");
}

/// --threads of `train`.
std::string threads_help() {
    return wrap("Threads of synchronous data-parallel training, 1 to 256 (default 1): each computes the gradient of "
                "its share of every mini-batch, the shares are added in a fixed order, one update. The result "
                "depends on N only (not on timing); N > 1 differs from 1 thread in the last bits of the sums and "
                "in the dropout masks. Evaluation is shared out too. More threads than free cores make it slower: "
                "at most `nproc`");
}

/// Registers `train` and its options on app, bound to args.
CLI::App* add_train(CLI::App& app, TrainArgs& args) {
    CLI::App* train = app.add_subcommand("train", wrap("Train the network of Nielsen's \"Neural Networks and Deep "
                                                       "Learning\", chapter 1, with mini-batch SGD and report the "
                                                       "test accuracy of every epoch"));
    train->footer(
        "Data: --data DIR, else the directory in $TYPEGRAD_DATA, else 60000 + 10000 built-in synthetic digits.\n"
        "Output: a header, one line per epoch and the best epoch on stdout; errors are one line on stderr.\n"
        "Exit status: 0 success, 1 data or file error, 2 bad option.\n");

    train->add_option("--data", args.data,
                      wrap("Directory with MNIST-format IDX files, each plain or .gz: train-images-idx3-ubyte, "
                           "train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (MNIST, "
                           "Fashion-MNIST); or the training set as one file (with --test FILE): a NumPy .npz with "
                           "arrays x and y, a CSV or a 2-D .npy table (target column: --target). Default: "
                           "$TYPEGRAD_DATA if set and not empty, else the built-in synthetic digits"))
        ->type_name("DIR|FILE")
        ->each([&args](const std::string&) { args.data_given = true; });
    train->add_option("--test", args.test,
                      wrap("The test set of a --data FILE, in the same form (.npz, CSV or .npy)"))
        ->type_name("FILE")
        ->each([&args](const std::string&) { args.test_given = true; });
    train->add_option("--target", args.target,
                      wrap("The target column of a CSV or .npy table: a header's column name, a 0-based index, "
                           "-1 for the last, first or last (default). One target column with one network output "
                           "is a regression (metrics: MSE, MAE); with more outputs it holds class indices"))
        ->type_name("COLUMN")
        ->each([&args](const std::string&) { args.target_given = true; });
    train->add_option("--epochs", args.epochs, wrap("Passes over the training set, a positive integer (default 30)"))
        ->type_name("N");
    train->add_option("--batch", args.batch,
                      wrap("Mini-batch size, a positive integer no larger than the number of training examples "
                           "(default 10)"))
        ->type_name("M");
    train->add_option("--eta,--lr", args.eta,
                      wrap("Learning rate, a finite number > 0 (--lr is the same option). Default for sgd by the cost: "
                           "3.0 for the quadratic, the article's; 0.5 for cross-entropy; 0.1 for log-likelihood; 0.05 for "
                           "lenet and other convolutional networks. For momentum and nesterov: that times (1 - mu), the "
                           "same step once the velocity has built up (0.01 for log-likelihood with mu 0.9). For adam: "
                           "0.001, as PyTorch and Keras"))
        ->type_name("E")
        ->each([&args](const std::string&) { args.eta_given = true; });
    train->add_option("--schedule", args.schedule,
                      wrap("Learning-rate schedule: constant (default); step:EVERY:FACTOR, eta multiplied by "
                           "FACTOR every EVERY epochs (step:4:0.2: eta, eta/5 from epoch 5, eta/25 from epoch 9; "
                           "lenet's default); or halve:K[:N], Nielsen's schedule (needs --validation): eta halved "
                           "after K epochs without a higher validation accuracy, training stopped at the N-th "
                           "halving (default N = 7: at eta/128). halve:K is Keras' ReduceLROnPlateau(factor=0.5, "
                           "patience=K), PyTorch's with patience=K-1 and threshold=0, plus the stop"))
        ->type_name("S")
        ->each([&args](const std::string&) { args.schedule_given = true; });
    train->add_option("--seed", args.seed,
                      wrap("Seed of the weight initialisation, of the shuffling and of the synthetic digits, an "
                           "integer in [0, 2^64) (default 42)"))
        ->type_name("S");
    train->add_option("--limit", args.limit,
                      wrap("Train on the first N training examples only; 0 (default) or more than there are means "
                           "all of them"))
        ->type_name("N");
    train->add_option("--cost", args.cost,
                      wrap("Cost: quadratic (the article's), cross-entropy (after sigmoid outputs, network2.py's), "
                           "log-likelihood (after softmax); default: log-likelihood after a softmax output, else quadratic (for "
                           "784-30-10 and the other compiled-in networks: the first they are compiled in with). A cost "
                           "not compiled in for the network is compiled on first use"))
        ->type_name("COST")
        ->check(CLI::IsMember({"quadratic", "cross-entropy", "log-likelihood"}));
    train->add_option("--init", args.init,
                      wrap("Initial weights: default (normal for networks of dense layers and sigmoids only, as the "
                           "article's; pytorch for any other), normal (N(0, 1), the article's), network2 (N(0, 1/n_in) weights), glorot, he, "
                           "pytorch (U(+-1/sqrt(n_in)))"))
        ->type_name("SCHEME")
        ->check(CLI::IsMember({"default", "normal", "network2", "glorot", "he", "pytorch"}));
    train->add_option("--optimizer", args.optimizer,
                      wrap("sgd (default, the article's), momentum, nesterov (with --momentum), adam (beta1 0.9, "
                           "beta2 0.999, eps 1e-8; eta is its step size, 0.001 unless given)"))
        ->type_name("NAME")
        ->check(CLI::IsMember({"sgd", "momentum", "nesterov", "adam"}));
    train->add_option("--momentum", args.momentum, wrap("mu of --optimizer momentum/nesterov, in (0, 1) (default 0.9)"))
        ->type_name("MU");
    train->add_option("--lambda", args.lambda,
                      wrap("L2 regularisation: W <- (1 - eta*lambda/n) W - (eta/m) sum dW with n the training "
                           "examples (Nielsen's network2.py; biases are not decayed); default 0"))
        ->type_name("L");
    train->add_option("--plot", args.plot,
                      wrap("After training, draw the --metrics file as 'typegrad plot' does into FILE.png or "
                           "FILE.svg (needs --metrics)"))
        ->type_name("FILE")
        ->each([&args](const std::string&) { args.plot_given = true; });
    train->add_option("--validation", args.validation,
                      wrap("Hold out the last N training examples (after --limit) as a validation set, evaluated "
                           "after every epoch (Nielsen: --validation 10000 leaves 50000 to train on); 0 (default): none"))
        ->type_name("N");
    train->add_option("--patience", args.patience,
                      wrap("Early stopping (needs --validation): stop after P epochs in a row without a validation "
                           "accuracy strictly higher than the best so far (Keras' EarlyStopping(patience=P)); a "
                           "line says why and which epoch was best. --save keeps the last epoch's weights, "
                           "--save-best the best's; default: train all --epochs. A regression compares the "
                           "validation MSE (lower is better)"))
        ->type_name("P")
        ->each([&args](const std::string&) { args.patience_given = true; });
    train->add_option("--save-best", args.save_best,
                      wrap("Write the checkpoint of the epoch with the best validation accuracy (a regression: the "
                           "lowest validation MSE) to FILE, replaced atomically whenever an epoch improves on it "
                           "(Keras' ModelCheckpoint(save_best_only=True)); needs --validation"))
        ->type_name("FILE")
        ->each([&args](const std::string&) { args.save_best_given = true; });
    train->add_option("--training-accuracy", args.training_accuracy,
                      wrap("Report the accuracy on the training set every epoch: running (counted from the "
                           "training steps' own forward passes, nearly free: the weights change during the epoch, "
                           "as Keras' accuracy in fit) or eval (the network after the epoch evaluated on the whole "
                           "training set, network2.py's monitor_training_accuracy: one more forward pass over it)"))
        ->type_name("MODE");
    train->add_option("--test-limit", args.test_limit,
                      wrap("Evaluate on the first N test examples only; 0 (default) or more than there are means "
                           "all of them"))
        ->type_name("N");
    train->add_option("--threads", args.threads, threads_help())->type_name("N");

    const auto& nets = network_names();
    const auto& engines = engine_names();
    if (std::find(nets.begin(), nets.end(), args.net) == nets.end() ||
        std::find(engines.begin(), engines.end(), args.grad) == engines.end())
        throw std::logic_error("the default --net or --grad is not on the menu in train.cpp");
    train
        ->add_option("--net", args.net,
                     wrap(cat("Network: a spec INPUT-LAYER-… (784-30-10 is the article's network: a bare width is a "
                              "sigmoid layer; 784-100:tanh-10:softmax; 1x28x28-conv6k5:relu-maxpool2-10:softmax; "
                              "grammar in README.md) or lenet. Compiled in: ", join(nets), "; any other spec, cost "
                              "or --dtype is compiled on first use (about 20 s, cached) (default ", args.net,
                              "; with --resume, the checkpoint's)")))
        ->type_name("SPEC")
        ->transform(network_validator())
        ->each([&args](const std::string&) { args.net_given = true; });
    train
        ->add_option("--dtype", args.dtype,
                     wrap("Element type of the network, float (default) or double (compiled on first use)"))
        ->type_name("TYPE")
        ->check(CLI::IsMember({"float", "double"}));
    train
        ->add_option("--grad", args.grad,
                     wrap(cat("Gradient engine, one of: ", join(engines), " (default ", args.grad, ")")))
        ->type_name("ENGINE")
        ->check(CLI::IsMember(engines));

    train->add_option("--metrics", args.metrics,
                      wrap("Write one record per epoch to FILE, replaced atomically after every epoch: CSV if FILE "
                           "ends in .csv, else JSON lines. Keys: epoch, epochs, test_accuracy, correct, tested, "
                           "seconds, examples_per_second, training_cost, eta, validation_accuracy (with --validation), training_accuracy "
                           "(with --training-accuracy), test_cost and validation_cost (the loss per example), and "
                           "for a regression test_mse, test_mae, validation_mse, validation_mae instead of the "
                           "accuracies. FILE is not created if the run fails before the first "
                           "epoch ends. With --resume, the records FILE holds of the epochs the checkpoint has "
                           "done are kept"))
        ->type_name("FILE")
        ->each([&args](const std::string&) { args.metrics_given = true; });
    train->add_option("--save", args.save,
                      wrap("After every epoch, write a checkpoint to FILE: the network and the trainer's state "
                           "(epochs done, shuffling generator, optimizer, validation history: best accuracy and "
                           "epoch, epochs without improvement, halvings of eta). FILE is replaced atomically, so a crash or a kill "
                           "leaves the previous checkpoint or the new one, never a damaged file; a diverging run "
                           "stops and keeps the last good one. Use it with --resume FILE and 'typegrad eval --model "
                           "FILE'. FILE is not created if the run fails before the first epoch ends"))
        ->type_name("FILE")
        ->each([&args](const std::string&) { args.save_given = true; });
    train->add_option("--resume", args.resume,
                      wrap("Continue the run saved in FILE (by --save) until --epochs epochs are done in all; if "
                           "FILE already has that many, print so and exit 0 without training. The weights, the "
                           "epochs done and the shuffling generator come from FILE, so with the same data, --limit, "
                           "--batch, --eta and --grad the result is bit for bit that of an uninterrupted run "
                           "(--seed then only selects the synthetic digits; a note says when the options differ). "
                           "The network is FILE's; --net, if given, must match it. FILE may also be the --save "
                           "file"))
        ->type_name("FILE")
        ->each([&args](const std::string&) { args.resume_given = true; });
    train->add_option("--average-every", args.average_every,
                      wrap("Under mpirun: local SGD, each process stepping on its share of every batch, the "
                           "parameters averaged over the processes every H steps and after every epoch ('epoch': "
                           "after every epoch only); without it, the gradients are summed every step "
                           "(docs/distributed.md)"))
        ->type_name("H|epoch")
        ->each([&args](const std::string&) { args.average_every_given = true; });
    train->add_flag("-q,--quiet", args.quiet,
                    wrap("No progress bar (it is drawn on stderr only when stderr is a terminal)"));
    return train;
}

/// The --net option of derive and gradcheck: one of the compiled-in shapes.
void add_net_option(CLI::App* cmd, std::string& net) {
    cmd->add_option("--net", net,
                    wrap(cat("Network spec, as for train: compiled in are ", join(network_names()),
                             "; any other is compiled on first use (default ", net, ")")))
        ->type_name("SPEC")
        ->transform(network_validator());
}

/// --cost of derive and gradcheck, as train's.
void add_cost_option(CLI::App* cmd, std::string& cost) {
    cmd->add_option("--cost", cost,
                    wrap("Cost, as for train: quadratic, cross-entropy (after a sigmoid output), log-likelihood (after a "
                         "softmax); default: log-likelihood after a softmax output, else quadratic"))
        ->type_name("COST")
        ->check(CLI::IsMember({"quadratic", "cross-entropy", "log-likelihood"}));
}

CLI::App* add_derive(CLI::App& app, DeriveOptions& o) {
    CLI::App* derive = app.add_subcommand(
        "derive", wrap("Print the backpropagation recurrences that the autodiff engine derives from the network's "
                       "type: δᴸ = ∂J/∂zᴸ for every layer, then ∂J/∂bᴸ and ∂J/∂Wᴸ"));
    add_net_option(derive, o.net);
    add_cost_option(derive, o.cost);
    derive
        ->add_option("--dtype", o.dtype,
                     wrap("Element type, float (default) or double: the recurrences are the same (accepted as train takes it)"))
        ->type_name("TYPE")
        ->check(CLI::IsMember({"float", "double"}));
    return derive;
}

CLI::App* add_gradcheck(CLI::App& app, GradcheckArgs& o) {
    CLI::App* check = app.add_subcommand(
        "gradcheck", wrap("Compare the autodiff gradient, the hand-written reference and central finite differences "
                          "of J on a network (double, a synthetic digit as input); print the three maximum relative "
                          "errors. Exit status 1 if they disagree"));
    add_net_option(check, o.net);
    add_cost_option(check, o.cost);
    check->add_option("--dtype", o.dtype, wrap("Element type: double (default and only: the check needs its precision)"))
        ->type_name("TYPE");
    check->add_option("--seed", o.seed,
                      wrap("Seed of the weights and of the input digit, an integer in [0, 2^64) (default 42)"))
        ->type_name("S");
    check->add_option("--samples", o.samples,
                      wrap("Check at most N entries of each tensor by finite differences; 0 (default) checks every "
                           "parameter"))
        ->type_name("N");
    check->add_option("--step", o.step,
                      wrap("h of the central difference (J(p+h) − J(p−h)) / 2h, a number in (0, 1) (default 1e-6)"))
        ->type_name("H");
    return check;
}

CLI::App* add_eval(CLI::App& app, EvalArgs& args) {
    CLI::App* eval = app.add_subcommand(
        "eval", wrap("Print the test accuracy and loss of a checkpoint written by 'typegrad train --save FILE': "
                     "\"test accuracy 0.XXXX (correct/tested)  cost C\"; for a regression \"test mse M  mae A  cost C\". The network is the checkpoint's, one of the "
                     "compiled-in shapes, float or double"));
    eval->footer(
        "Data: --data DIR, else the directory in $TYPEGRAD_DATA, else the 10000 built-in synthetic test digits.\n"
        "Exit status: 0 success, 1 data or file error (a missing, damaged or unknown checkpoint), 2 bad option.\n");
    eval->add_option("--model", args.model, wrap("The checkpoint to evaluate, written by 'typegrad train --save FILE'"))
        ->type_name("FILE")
        ->required();
    eval->add_option("--data", args.data,
                     wrap("Directory with MNIST-format IDX files (as for train); only the test set is used. Or a "
                          "file (.npz, CSV, .npy table): the test set. "
                          "Default: $TYPEGRAD_DATA if set and not empty, else the built-in synthetic digits"))
        ->type_name("DIR|FILE")
        ->each([&args](const std::string&) { args.data_given = true; });
    eval->add_option("--target", args.target, wrap("The target column of a CSV or .npy table (as for train)"))
        ->type_name("COLUMN")
        ->each([&args](const std::string&) { args.target_given = true; });
    eval->add_option("--test-limit", args.test_limit,
                     wrap("Evaluate on the first N test examples only; 0 (default) or more than there are means "
                          "all of them"))
        ->type_name("N");
    eval->add_option("--seed", args.seed,
                     wrap("Seed of the synthetic digits, an integer in [0, 2^64) (default 42, as for train)"))
        ->type_name("S");
    eval->add_option("--threads", args.threads,
                     wrap("Threads counting the test set, each a share of it, 1 to 256 (default 1); the count is "
                          "the same for any number"))
        ->type_name("N");
    return eval;
}

/// One line: newlines (CLI11 joins some messages with them) become "; ".
std::string one_line(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    for (std::size_t i = 0; (i = s.find('\n', i)) != std::string::npos;) s.replace(i, 1, "; ");
    return s;
}

int error(const std::string& message, int code) {
    // under mpirun every process finds a bad option alike: process 0 says it
    if (code == exit_usage && processes().rank() > 0) return code;
    // CLI11's messages were made one line where they are caught; a newline in ours comes from a
    // file name or file text and is shown escaped (\x0a), as every other control character
    say(error_stream(), "typegrad: error%s: %s", process_text().c_str(), message.c_str());
    return code;
}

/// A subcommand: its CLI11 app and what runs it once the command line is parsed. main's table of
/// them is the one list of the commands: the unknown-command message, the help hint after a bad
/// option and the dispatch all read it.
struct Command {
    CLI::App* app;
    std::function<int()> run;
};

/// Whether descriptor fd is open; if not, /dev/null takes its place, so that no file the run
/// opens later becomes "standard output" by accident (a checkpoint would receive the report).
bool keep_open(int fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) return true;
    const int null = ::open("/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY);
    if (null >= 0 && null != fd) {
        ::dup2(null, fd);
        ::close(null);
    }
    return false;
}

/// Everything printed on stdout must have arrived: a closed or full stdout is a failure.
int finish(int code) {
    if (!flush_stdout()) return error(cat("standard output: cannot write: ", std::strerror(stdout_error())), exit_failure);
    return code;
}

int run(int argc, char** argv) {
    keep_open(STDIN_FILENO);
    const bool stderr_open = keep_open(STDERR_FILENO);
    (void)stderr_open;
    if (!keep_open(STDOUT_FILENO))
        return error("standard output is closed: nothing could be reported (redirect it to /dev/null to discard it)",
                     exit_failure);
    install_interrupt_handlers();
    try {
        CLI::App app{"typegrad: neural networks as C++ types.", "typegrad"};
        app.set_version_flag("--version", version, "Print the version and exit");
        app.footer("Run 'typegrad <command> --help' for the options of a command.\n");
        TrainArgs train_args;
        CLI::App* train = add_train(app, train_args);
        DeriveOptions derive_options;
        CLI::App* derive = add_derive(app, derive_options);
        GradcheckArgs gradcheck_args;
        CLI::App* gradcheck = add_gradcheck(app, gradcheck_args);
        EvalArgs eval_args;
        CLI::App* eval = add_eval(app, eval_args);
        ExportOptions export_options;
        std::string export_model, export_output;
        CLI::App* exporter = app.add_subcommand(
            "export", wrap("Write a checkpoint's network for PyTorch or ONNX runtimes. OUT.npz holds every parameter as "
                           "an array named as nn.Sequential's state_dict (\"0.weight\", dense weights transposed to "
                           "(out, in)) and the architecture as JSON; scripts/npz_to_torch.py rebuilds the model. "
                           "OUT.onnx is an ONNX model (opset 13: Gemm, Conv, MaxPool, AveragePool, Flatten, Sigmoid, "
                           "Tanh, Relu, Softmax; dropout omitted) with input \"input\" [batch, 784] or [batch, 1, 28, "
                           "28], pixels in [0, 1], and output \"output\", the network's output activation; it needs a "
                           "build with ONNX support (Debian: libonnx-dev, libprotobuf-dev)"));
        exporter->add_option("--model", export_model, wrap("The checkpoint, written by 'typegrad train --save FILE'"))
            ->type_name("FILE")
            ->required();
        exporter->add_option("-o,--output", export_output, wrap("OUT.npz or OUT.onnx (replaced atomically)"))->type_name("FILE")->required();
        PredictOptions predict_options;
        std::string predict_model;
        std::vector<std::string> predict_images;
        CLI::App* predictor = app.add_subcommand(
            "predict", wrap("Classify 28x28 grayscale images with a checkpoint's network (one with 784 or 1x28x28 "
                            "inputs). Per image, one line: \"FILE: CLASS  o0 o1 ... o9\", the outputs of the "
                            "network's last layer: softmax probabilities, or for the sigmoid networks their raw "
                            "activations, each in (0, 1) and not normalised (the header line says which)"));
        predictor->footer(
            "Images: PGM (P5 or P2, 8-bit) or PNG (8-bit or less), recognised by content. As MNIST's: 28x28, white "
            "(255)\ndigit on black (0), a pixel b read as b/255. Colour PNG is converted to gray as PIL's "
            "convert(\"L\"),\nalpha ignored. Another size, 16-bit samples, or a file that is not such an image is an "
            "error.\nAll images are read first: the first bad one stops the run with one error line and nothing on "
            "stdout.\nExit status: 0 success, 1 file error (checkpoint or image), 2 bad option.\n");
        predictor->add_option("--model", predict_model, wrap("The checkpoint, written by 'typegrad train --save FILE'"))
            ->type_name("FILE")
            ->required();
        predictor->add_option("images", predict_images, wrap("PGM or PNG files, 28x28 grayscale"))
            ->type_name("IMAGE...")
            ->required();
        predictor->add_flag("--invert", predict_options.invert,
                            wrap("Use 255 - b for every pixel: for dark digits on a light background"));
        GenerateArgs generate_args;
        CLI::App* generator = app.add_subcommand(
            "generate", wrap("Continue a prompt with a checkpoint's network that reads text (input seqT, trained on "
                             "--data FILE.txt): print the next --tokens characters, each the most likely one "
                             "(--temperature 0) or drawn from the network's probabilities raised to 1/T"));
        generator->footer("Exit status: 0 success, 1 file error (checkpoint), 2 bad option (a prompt character outside the "
                          "vocabulary).\n");
        generator->add_option("--model", generate_args.model, wrap("The checkpoint, written by 'typegrad train --save FILE'"))
            ->type_name("FILE")
            ->required();
        generator->add_option("--prompt", generate_args.prompt,
                              wrap("The text to continue (UTF-8; every character must be in the model's vocabulary)"))
            ->type_name("TEXT")
            ->required();
        generator->add_option("--tokens", generate_args.tokens, wrap("Characters to generate, 1 to 1000000 (default 100)"))
            ->type_name("N");
        generator->add_option("--temperature", generate_args.temperature,
                              wrap("0: greedy, the most likely character each time (deterministic); T > 0: sample from "
                                   "p^(1/T), normalised (default 1: the network's own probabilities)"))
            ->type_name("T");
        generator->add_option("--seed", generate_args.seed, wrap("Seed of the sampling, an integer in [0, 2^64) (default 42)"))
            ->type_name("S");
        PlotOptions plot_options;
        std::vector<std::string> plot_files;
        std::string plot_output;
        CLI::App* plot = app.add_subcommand(
            "plot", wrap("Draw test accuracy (solid), validation accuracy (dashed), training accuracy (dotted) and training cost per epoch of "
                         "one or more runs from their 'train --metrics' files, overlaid with a legend, with gnuplot "
                         "(Debian: gnuplot-nox)"));
        plot->add_option("metrics", plot_files, wrap("Files written by 'typegrad train --metrics' (JSON lines or CSV)"))
            ->type_name("METRICS...")
            ->required();
        plot->add_option("-o,--output", plot_output, wrap("The picture to write, FILE.png or FILE.svg (replaced atomically)"))
            ->type_name("FILE")
            ->required();
        app.require_subcommand(0, 1);
        const std::vector<Command> table{
            {train, [&] { return run_train(for_this_process(validate(train_args))); }},
            {eval, [&] { return run_eval(validate(eval_args)); }},
            {derive, [&] { return run_derive(derive_options); }},
            {gradcheck, [&] { return run_gradcheck(validate(gradcheck_args)); }},
            {plot,
             [&] {
                 for (const auto& f : plot_files) plot_options.metrics.emplace_back(f);
                 plot_options.output = plot_output;
                 return run_plot(plot_options);
             }},
            {exporter,
             [&] {
                 export_options.model = export_model;
                 export_options.output = export_output;
                 return run_export(export_options);
             }},
            {generator, [&] { return run_generate(validate(generate_args)); }},
            {predictor, [&] {
                 predict_options.model = predict_model;
                 for (const auto& f : predict_images) predict_options.images.emplace_back(f);
                 return run_predict(predict_options);
             }}};
        // "typegrad trian": CLI11 would say "unexpected argument"; name the command and the list.
        if (argc > 1 && argv[1][0] != '-' &&
            std::none_of(table.begin(), table.end(), [&](const Command& c) { return c.app->get_name() == argv[1]; })) {
            std::vector<std::string> names;
            for (const Command& c : table) names.push_back(c.app->get_name());
            return error(cat("unknown command '", argv[1], "'; the commands are ", join(names), " (see 'typegrad --help')"),
                         exit_usage);
        }
        // --layers FILE: the headers of the user's layers, for every command that builds a network.
        // Read before the rest of the command line is parsed (below), because --net and a
        // checkpoint's layer text name the layers the headers declare.
        std::vector<std::string> layer_files;
        for (CLI::App* cmd : {train, derive, gradcheck, eval, exporter, predictor, generator})
            cmd->add_option("--layers", layer_files,
                            wrap("A C++ header declaring layers of your own, each with its --net word (docs/layers.md, "
                                 "\"Adding a layer\"); repeatable. Networks compiled on first use include it; its words "
                                 "are compiled once and cached, keyed by its bytes"))
                ->type_name("FILE");
        {
            std::vector<std::string> early;
            for (int i = 2; i < argc; ++i) {
                const std::string_view a = argv[i];
                if (a == "--layers" && i + 1 < argc) early.emplace_back(argv[++i]);
                else if (a.starts_with("--layers=")) early.emplace_back(a.substr(9));
            }
            if (!early.empty()) use_layer_headers(early);
        }

        for (int i = 2; i < argc; ++i) train_args.command.emplace_back(argv[i]);
        train_args.command.insert(train_args.command.begin(), "train");
        try {
            app.parse(argc, argv);
        } catch (const CLI::Success& e) {
            return finish(app.exit(e));  // --help, --version
        } catch (const CLI::ParseError& e) {
            std::string hint = " (see 'typegrad --help')";
            for (const Command& c : table)
                if (c.app->parsed()) hint = cat(" (see 'typegrad ", c.app->get_name(), " --help')");
            return error(cat(one_line(e.what()), hint), exit_usage);
        }

        for (const Command& c : table)
            if (c.app->parsed()) return finish(c.run());
        std::cerr << app.help();
        return exit_usage;
    } catch (const Interrupted& i) {
        say(stderr, "typegrad: interrupted by %s %s; nothing was written", signal_name(i.signal),
                     i.during.c_str());
        return 128 + i.signal;
    } catch (const UsageError& e) {
        return error(e.what(), exit_usage);
    } catch (const OutputError& e) {
        return error(e.what(), exit_failure);
    } catch (const RunError& e) {
        return error(e.what(), exit_failure);
    } catch (const typegrad::data::DataError& e) {
        return error(e.what(), exit_failure);
    } catch (const std::bad_alloc&) {
        return error("out of memory", exit_failure);
    } catch (const std::exception& e) {
        return error(e.what(), exit_failure);
    } catch (...) {
        return error("unexpected failure", exit_failure);
    }
}

}  // namespace

int main(int argc, char** argv) {
    Processes job(argc, argv);  // MPI, when mpirun started this process
    return job.end(run(argc, argv));
}

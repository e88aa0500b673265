# Issue 19, item 6: the CLI speaks graphs — res(LAYERS) and cat(LAYERS|LAYERS…) in --net, trained,
# saved, evaluated from the checkpoint's layer description and gradient-checked; a block that
# does not fit and malformed blocks refused in one line before any compile. Each network is
# compiled on first use (tens of seconds), hence the long timeouts. Included by
# tests/cli/CMakeLists.txt after typegrad_cli_test is defined.

set(res_mlp "784-16:relu-res(16:relu-16:linear)-relu-10:softmax")
set(res_mlp_re "784-16:relu-res\\(16:relu-16:linear\\)-relu-10:softmax")
typegrad_cli_test(issue19_graph_residual_mlp
    ARGS "train --net ${res_mlp} --epochs 1 --limit 1000 --test-limit 200 --quiet --save res.tgck"
    EXPECT_REGEX "typegrad train: ${res_mlp_re}.*epoch 1/1 +test accuracy 0\\.[0-9][0-9][0-9][0-9]"
    CHECK_EXISTS res.tgck
    # the checkpoint's layers (… | residual(dense<16> | relu | dense<16>) | …) read back as the spec
    POST_ARGS "eval --model res.tgck --test-limit 200"
    POST_REGEX "typegrad eval: res.tgck: ${res_mlp_re}.*test accuracy 0\\.[0-9][0-9][0-9][0-9] \\([0-9]+/200\\)"
    TIMEOUT 600)
typegrad_cli_test(issue19_graph_concat_cnn
    ARGS "train --net 1x28x28-cat(conv4k3p1:relu|conv2k5p2:tanh)-maxpool2-10:softmax --epochs 1 --limit 500 --test-limit 100 --quiet"
    EXPECT_REGEX "typegrad train: 1x28x28-cat\\(conv4k3p1:relu\\|conv2k5p2:tanh\\)-maxpool2-10:softmax.*eta 0\\.05.*epoch 1/1 +test accuracy 0\\.[0-9][0-9][0-9][0-9]"
    TIMEOUT 600)
typegrad_cli_test(issue19_graph_gradcheck
    ARGS "gradcheck --net 784-8:tanh-res(8:relu-8:linear)-cat(4:sigmoid|res(8:linear))-10:softmax --samples 50"
    EXPECT_REGEX "autodiff vs reference +[0-9.e+-]+ .*autodiff vs finite differences +[0-9.]+e-(0[7-9]|1[0-9]).*reference vs finite differences +[0-9.]+e-(0[7-9]|1[0-9]).*gradients agree"
    TIMEOUT 600)
# refused when parsed, in one line, with no compiler to run: nothing is compiled
typegrad_cli_test(issue19_graph_res_changes_shape
    ARGS "train --net 784-64:relu-res(64:relu-32)-10:softmax"
    SET_ENV "TYPEGRAD_CXX=/nonexistent/c++"
    EXPECT_EXIT 2
    EXPECT_REGEX "typegrad: error: --net: 'res\\(64:relu-32\\)' changes the shape: its input is 64, its output 32 \\(a residual block must keep it\\)"
    TIMEOUT 2)
typegrad_cli_test(issue19_graph_cat_shapes
    ARGS "train --net 1x28x28-cat(conv4k3|conv4k3p1)-10:softmax"
    SET_ENV "TYPEGRAD_CXX=/nonexistent/c++"
    EXPECT_EXIT 2
    EXPECT_REGEX "'cat\\(conv4k3\\|conv4k3p1\\)' joins branches of different shapes: 4x26x26 and 4x28x28"
    TIMEOUT 2)
typegrad_cli_test(issue19_graph_empty_res ARGS "train --net 784-res()-10" EXPECT_EXIT 2
    EXPECT_REGEX "'res\\(\\)' is empty: a residual block needs at least one layer")
typegrad_cli_test(issue19_graph_one_branch ARGS "train --net 784-cat(32)-10" EXPECT_EXIT 2
    EXPECT_REGEX "'cat\\(32\\)' has one branch: a concatenation needs two or more, joined by '\\|'")
typegrad_cli_test(issue19_graph_unbalanced ARGS "train --net 784-res(64:relu-64-10" EXPECT_EXIT 2
    EXPECT_REGEX "unbalanced parentheses: a '\\(' is not closed")
typegrad_cli_test(issue19_graph_unbalanced_close ARGS "derive --net 784-64)-10" EXPECT_EXIT 2
    EXPECT_REGEX "unbalanced parentheses: a '\\)' closes nothing")

# the export scripts now also compile a residual MLP, a concatenation CNN and an MLP with layer
# normalisation on first use
set_tests_properties(cli.export_to_onnx cli.export_to_pytorch PROPERTIES TIMEOUT 1200)

# Issue 19, items 3 and 6: layernorm in --net, after a vector, at the top level and in a block;
# the checkpoint's layer_norm reads back as layernorm (eval checks its parameters' sizes)
set(ln_mlp "784-16:relu-res(layernorm-16:gelu-16:linear)-layernorm-10:softmax")
set(ln_mlp_re "784-16:relu-res\\(layernorm-16:gelu-16:linear\\)-layernorm-10:softmax")
typegrad_cli_test(issue19_graph_layernorm
    ARGS "train --net ${ln_mlp} --epochs 1 --limit 1000 --test-limit 200 --quiet --save ln.tgck"
    EXPECT_REGEX "typegrad train: ${ln_mlp_re}.*epoch 1/1 +test accuracy 0\\.[0-9][0-9][0-9][0-9]"
    CHECK_EXISTS ln.tgck
    POST_ARGS "eval --model ln.tgck --test-limit 200"
    POST_REGEX "typegrad eval: ln.tgck: ${ln_mlp_re}.*test accuracy 0\\.[0-9][0-9][0-9][0-9] \\([0-9]+/200\\)"
    TIMEOUT 600)
typegrad_cli_test(issue19_graph_layernorm_gradcheck
    ARGS "gradcheck --net 784-8:tanh-res(layernorm-8:gelu-8:linear)-layernorm-10:softmax --samples 50"
    EXPECT_REGEX "autodiff vs reference +[0-9.e+-]+ .*autodiff vs finite differences +[0-9.]+e-(0[7-9]|1[0-9]).*reference vs finite differences +[0-9.]+e-(0[7-9]|1[0-9]).*gradients agree"
    TIMEOUT 600)
# after an image: refused when parsed, in one line, with no compiler to run
typegrad_cli_test(issue19_graph_layernorm_image
    ARGS "train --net 1x28x28-conv4k3:relu-layernorm-10:softmax"
    SET_ENV "TYPEGRAD_CXX=/nonexistent/c++"
    EXPECT_EXIT 2
    EXPECT_REGEX "typegrad: error: --net: .*layernorm takes a vector, not an image \\(put a dense layer, or flatten, before it\\)"
    TIMEOUT 2)

# Issue 19, items 3 and 6: batchnorm in --net, on images and vectors, at the top level and in a
# residual block (the issue's example spec, with 4 channels). Training normalises over the whole
# mini-batch; eval uses the running statistics the checkpoint carries.
set(bn_cnn "1x28x28-conv4k3p1:linear-batchnorm-relu-res(conv4k3p1:linear-batchnorm-relu-conv4k3p1:linear-batchnorm)-relu-maxpool2-10:softmax")
# (its canonical form: a convolution without ':ACT' is linear)
set(bn_cnn_re "1x28x28-conv4k3p1-batchnorm-relu-res\\(conv4k3p1-batchnorm-relu-conv4k3p1-batchnorm\\)-relu-maxpool2-10:softmax")
typegrad_cli_test(issue19_graph_batchnorm
    ARGS "train --net ${bn_cnn} --epochs 1 --limit 1000 --test-limit 200 --eta 0.01 --quiet --save bn.tgck"
    EXPECT_REGEX "typegrad train: ${bn_cnn_re}.*batch 10.*epoch 1/1 +test accuracy 0\\.([5-9][0-9][0-9][0-9])"
    CHECK_EXISTS bn.tgck
    POST_ARGS "eval --model bn.tgck --test-limit 200"
    POST_REGEX "typegrad eval: bn.tgck: ${bn_cnn_re}.*test accuracy 0\\.([5-9][0-9][0-9][0-9]) \\([0-9]+/200\\)"
    TIMEOUT 900)
typegrad_cli_test(issue19_graph_batchnorm_gradcheck
    ARGS "gradcheck --net 784-8:linear-batchnorm-tanh-res(8:linear-batchnorm-gelu)-10:softmax --samples 50"
    EXPECT_REGEX "autodiff vs reference +[0-9.e+-]+ .*autodiff vs finite differences +[0-9.]+e-(0[7-9]|1[0-9]).*reference vs finite differences +[0-9.]+e-(0[7-9]|1[0-9]).*gradients agree"
    TIMEOUT 600)
# what cannot normalise over the whole mini-batch is refused before any compile
typegrad_cli_test(issue19_graph_batchnorm_threads
    ARGS "train --net 784-16:linear-batchnorm-relu-10:softmax --threads 2"
    SET_ENV "TYPEGRAD_CXX=/nonexistent/c++"
    EXPECT_EXIT 2
    EXPECT_REGEX "typegrad: error: --threads 2: batch norm normalises over the whole mini-batch, which one thread computes \\(use --threads 1\\)"
    TIMEOUT 5)
typegrad_cli_test(issue19_graph_batchnorm_reference
    ARGS "train --net 784-16:linear-batchnorm-relu-10:softmax --grad reference"
    SET_ENV "TYPEGRAD_CXX=/nonexistent/c++"
    EXPECT_EXIT 2
    EXPECT_REGEX "typegrad: error: --grad reference: the engine computes the gradient one example at a time, and batch norm normalises over the whole mini-batch \\(use --grad autodiff\\)"
    TIMEOUT 5)
typegrad_cli_test(issue19_graph_batchnorm_batch1
    ARGS "train --net 784-16:linear-batchnorm-relu-10:softmax --batch 1"
    SET_ENV "TYPEGRAD_CXX=/nonexistent/c++"
    EXPECT_EXIT 2
    EXPECT_REGEX "typegrad: error: --batch 1: batch norm normalises over the whole mini-batch, which needs at least 2 examples"
    TIMEOUT 5)

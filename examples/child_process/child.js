// A child for spawn_output, as in Node's own example.
console.log(`hello from node, pid ${process.pid}`);
for (let i = 1; i <= 3; i++) console.log(`step ${i} of 3`);
console.error("done");

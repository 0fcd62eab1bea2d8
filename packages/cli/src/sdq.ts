console.log('sdq');
